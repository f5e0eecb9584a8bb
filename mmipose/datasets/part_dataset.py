"""PartNetDataset: the 64x64 object part dataset written by ``tools/build_part_dataset.py``."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmengine.dataset import BaseDataset

from mmipose.registry import DATASETS


@DATASETS.register_module()
class PartNetDataset(BaseDataset):
    """(object shape, part map, part category) samples for PartNet pretraining and evaluation.

    Layout (the reference's ``Full_Parts``)::

        <data_root>/<category id>/<split>/<name>_label.png   binary object shape (L or RGB)
        <data_root>/<category id>/<split>/<name>_part.png    part indices 0..8

    Pairs are matched by ``<name>`` (the reference pairs two independently sorted lists).

    Args:
        data_root (str): Part dataset root.
        split (str): ``'train'`` or ``'val'``.
        categories (Sequence[int] | str): Category ids known to the model (the reference's
            ``opt.categorys``) or a table name of ``reference_tables.NAMED_CATEGORIES``.
        selected_categories (Sequence[int], optional): Categories whose samples are loaded
            (default: all of ``categories``). Each must have a ``<split>`` folder.
        pipeline (list): Transforms, e.g. ``LoadPartPair``, ``RandomPartAugment``, ``PackPartInputs``.

    Each data info holds ``shape_path``, ``part_path``, ``category`` (the id) and
    ``category_index`` (its position in ``categories``); ``metainfo['categories']`` lists the ids.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 categories: Union[Sequence[int], str] = 'part_dataset',
                 selected_categories: Optional[Sequence[int]] = None,
                 pipeline: Sequence = (),
                 **kwargs):
        from mmipose.models.partnet.reference_tables import NAMED_CATEGORIES, resolve_table  # no import cycle
        self.split = split
        self.categories: List[int] = [int(c) for c in resolve_table(categories, NAMED_CATEGORIES, 'categories')]
        selected = self.categories if selected_categories is None else [int(c) for c in selected_categories]
        unknown = sorted(set(selected) - set(self.categories))
        if unknown:
            raise ValueError(f'PartNetDataset: selected_categories {unknown} are not in categories {self.categories}')
        self.selected_categories = selected
        metainfo = dict(categories=self.categories, selected_categories=selected)
        super().__init__(data_root=data_root, pipeline=list(pipeline), metainfo=metainfo, **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = []
        for category in self.categories:
            if category not in self.selected_categories:
                continue
            folder = osp.join(self.data_root, str(category), self.split)
            if not osp.isdir(folder):
                raise FileNotFoundError(f'PartNetDataset: {folder} (category {category}, split {self.split!r}) '
                                        'does not exist; build it with tools/build_part_dataset.py or drop the '
                                        'category from selected_categories')
            files = set(os.listdir(folder))
            for name in sorted(f[:-len('_label.png')] for f in files if f.endswith('_label.png')):
                if name + '_part.png' not in files:
                    raise FileNotFoundError(f'PartNetDataset: {osp.join(folder, name)}_label.png has no _part.png')
                data_list.append(
                    dict(
                        shape_path=osp.join(folder, name + '_label.png'),
                        part_path=osp.join(folder, name + '_part.png'),
                        category=category,
                        category_index=self.categories.index(category),
                        name=name))
        if not data_list:
            raise FileNotFoundError(f'PartNetDataset: no samples in {self.data_root} for split {self.split!r} and '
                                    f'categories {self.selected_categories}')
        return data_list
