"""ToySceneDataset: small synthetic street scenes with real part structure, generated on demand.

The scenes (sky, buildings, sidewalk, grass, road; persons, cars, buses and trees made of parts)
are drawn deterministically from a seed and cached on disk (see
:mod:`mmipose.datasets.toy.generate` for the layout). They exist so that the whole iPOSE
pipeline (PartNet pretraining, synthesis training, evaluation, editing) can be run end to end on
a laptop CPU in minutes; they are not a benchmark.
"""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from mmipose.registry import DATASETS

from .generate import SPLITS, prepare_toy_data, read_manifest
from .spec import toy_metainfo


@DATASETS.register_module()
class ToySceneDataset(BaseDataset):
    """Toy street scenes for semantic image synthesis with parts.

    Each item's raw info holds the file paths ``img_path`` (RGB PNG), ``label_path`` (uint8 label
    ids), ``inst_path`` (uint16 instance ids: ``label*1000+k`` for objects, the label id for stuff)
    and ``gt_parts_path`` (uint8 ground-truth part ids, 0 outside objects), plus ``image_name``.
    ``metainfo`` carries ``classes``, ``palette``, ``part_categories`` (label id -> part-category
    id: person 6 -> 24, car 7 -> 26, bus 8 -> 28, tree 9 -> 101), ``part_names``,
    ``basis_categories`` and ``novel_categories``.

    Args:
        data_root (str): cache folder; the data are generated there when missing or when the
            generation parameters below differ from its ``manifest.json``.
        split (str): ``'train'`` or ``'val'``.
        seed (int): generation seed.
        num_train (int): number of training scenes generated.
        num_val (int): number of validation scenes generated.
        height (int): scene height.
        width (int): scene width.
        num_supports (int): supports per part category written under ``<data_root>/supports``.
        generate (bool): generate when missing; if False a missing cache is an error.
        pipeline (list): MMEngine data pipeline.
        indices (int | Sequence[int], optional): keep only these items (MMEngine semantics).
        test_mode (bool): MMEngine test mode flag.
        **kwargs: other :class:`mmengine.dataset.BaseDataset` arguments (``metainfo``, ``lazy_init``...).
    """

    METAINFO = toy_metainfo()

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 seed: int = 0,
                 num_train: int = 400,
                 num_val: int = 64,
                 height: int = 64,
                 width: int = 128,
                 num_supports: int = 3,
                 generate: bool = True,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        if split not in SPLITS:
            raise ValueError(f'ToySceneDataset: split must be one of {SPLITS}, got {split!r}.')
        self.split = split
        if generate:
            self.manifest = prepare_toy_data(
                data_root,
                seed=seed,
                num_train=num_train,
                num_val=num_val,
                height=height,
                width=width,
                num_supports=num_supports)
        else:
            self.manifest = read_manifest(data_root)
            if self.manifest is None:
                raise FileNotFoundError(f'ToySceneDataset: no toy data at {data_root} (manifest.json missing) and '
                                        'generate=False. Set generate=True or run tools/demo.py once.')
        super().__init__(data_root=data_root, pipeline=list(pipeline), indices=indices, test_mode=test_mode, **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the split's scenes (file paths only; images are read by the pipeline)."""
        count = self.manifest['params'][f'num_{self.split}']
        folder = osp.join(self.data_root, 'scenes', self.split)
        data_list = []
        for index in range(count):
            name = f'{self.split}_{index:05d}'
            data_list.append(
                dict(
                    image_name=name,
                    img_path=osp.join(folder, 'images', name + '.png'),
                    label_path=osp.join(folder, 'labels', name + '.png'),
                    inst_path=osp.join(folder, 'instances', name + '.png'),
                    gt_parts_path=osp.join(folder, 'parts', name + '.png'),
                    part_categories=dict(self.metainfo['part_categories'])))
        missing = [d['img_path'] for d in data_list[:1] + data_list[-1:] if not osp.isfile(d['img_path'])]
        if missing:
            raise FileNotFoundError(f'ToySceneDataset: {missing[0]} is missing although {self.data_root}/'
                                    'manifest.json lists it; delete the folder to regenerate.')
        return data_list

    @property
    def support_root(self) -> str:
        """Folder with ``<part category>/*_part.png`` support maps (SupportBank layout)."""
        return osp.join(self.data_root, 'supports')

    @property
    def part_dataset_root(self) -> str:
        """Folder with ``<part category>/<split>/<name>_{label,part}.png`` (PartNetDataset layout)."""
        return osp.join(self.data_root, 'part_dataset')
