"""Base dataset for label-map-to-image datasets laid out as image / label / instance folders."""
import glob
import os.path as osp
from typing import Dict, List, Optional

from mmengine.dataset import BaseDataset

from mmipose.registry import DATASETS


@DATASETS.register_module()
class IPOSESemanticDataset(BaseDataset):
    """Triplets (image, label map, instance map) found by walking the image folder.

    For every ``<data_root>/<data_prefix['img']>/<rel><img_suffix>`` the label map is
    ``<data_root>/<data_prefix['label']>/<rel><label_suffix>`` and the instance map
    ``<data_root>/<data_prefix['inst']>/<rel><inst_suffix>`` (``<rel>`` may contain sub-folders,
    e.g. Cityscapes cities). Items: ``img_path``, ``label_path``, ``inst_path``, ``image_name``.

    Args:
        data_root (str): Dataset root.
        data_prefix (dict): Folders ``img``, ``label`` and (optional) ``inst`` under the root.
        img_suffix (str): Image file ending.
        label_suffix (str): Label file ending.
        inst_suffix (str, optional): Instance file ending; None = no instance maps.
        object_check_samples (int): At build time, this many evenly spread images go through the
            pipeline up to ``ComputeObjectBoxes``; none with an object is an error
            (:func:`~mmipose.datasets.object_presence.check_objects_present`). 0 = no check.
        allow_no_objects (bool): Only warn (loudly) when no probed image has an object; a subset
            given by ``indices`` always only warns.
        **kwargs: ``pipeline``, ``test_mode``, ``indices``... of ``BaseDataset``.
    """

    def __init__(self,
                 data_root: str,
                 data_prefix: Dict[str, str],
                 img_suffix: str,
                 label_suffix: str,
                 inst_suffix: Optional[str] = None,
                 object_check_samples: int = 16,
                 allow_no_objects: bool = False,
                 **kwargs):
        self.img_suffix = img_suffix
        self.label_suffix = label_suffix
        self.inst_suffix = inst_suffix
        self.object_check_samples = object_check_samples
        self.allow_no_objects = allow_no_objects
        super().__init__(data_root=data_root, data_prefix=data_prefix, **kwargs)

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        super().full_init()
        from .object_presence import check_objects_present
        check_objects_present(self, self.object_check_samples, self.allow_no_objects or self._indices is not None)

    def load_data_list(self) -> List[dict]:
        name = type(self).__name__
        img_dir = self.data_prefix['img']
        if not osp.isdir(img_dir):
            raise FileNotFoundError(f'{name}: image folder {img_dir} does not exist '
                                    f'(data_root={self.data_root!r}, see docs/datasets.md)')
        images = sorted(glob.glob(osp.join(img_dir, '**', '*' + self.img_suffix), recursive=True))
        if not images:
            raise FileNotFoundError(f'{name}: no "*{self.img_suffix}" images under {img_dir}')
        items = []
        for img_path in images:
            rel = osp.relpath(img_path, img_dir)[:-len(self.img_suffix)]
            item = dict(
                img_path=img_path,
                image_name=osp.basename(rel),
                label_path=self._companion('label', rel, self.label_suffix, img_path))
            if self.inst_suffix is not None:
                item['inst_path'] = self._companion('inst', rel, self.inst_suffix, img_path)
            items.append(item)
        return items

    def _companion(self, key: str, rel: str, suffix: str, img_path: str) -> str:
        path = osp.join(self.data_prefix[key], rel + suffix)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{type(self).__name__}: {key} map {path} of image {img_path} '
                                    'does not exist')
        return path
