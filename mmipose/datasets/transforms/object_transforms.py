"""Dataset transform that writes the data contract's object table (``results['objects']``)."""
from typing import Mapping, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmipose.registry import TRANSFORMS

from ..object_boxes import compute_object_boxes


@TRANSFORMS.register_module()
class ComputeObjectBoxes(BaseTransform):
    """Compute ``results['objects']`` (K,8) from the instance and label maps at working resolution.

    Put it after every resize and flip, so boxes always match the maps (the reference computes
    Cityscapes boxes on the stored files and mirrors boxes with an off-by-one).

    Args:
        part_categories (Mapping[int, int]): class id -> part category id (config data); the
            class of an instance is read from ``class_key``.
        inst_key (str): Key of the instance map.
        class_key (str): Key of the per-pixel class map (the label map; ADE20K: its instance
            class channel).
        original_size_key (str, optional): Key holding the original (H0, W0) image shape used
            for aspect restoration (ADE20K, COCO-Stuff: ``'ori_img_shape'``); None = (1, 1).
        min_extent (int): Smallest box side kept.
        min_instance_value (int): Instance values below it are never objects (Cityscapes: 1000).
    """

    def __init__(self,
                 part_categories: Mapping[int, int],
                 inst_key: str = 'inst',
                 class_key: str = 'label',
                 original_size_key: Optional[str] = None,
                 min_extent: int = 2,
                 min_instance_value: int = 0):
        self.part_categories = {int(k): int(v) for k, v in part_categories.items()}
        self.inst_key = inst_key
        self.class_key = class_key
        self.original_size_key = original_size_key
        self.min_extent = min_extent
        self.min_instance_value = min_instance_value

    def transform(self, results: dict) -> dict:
        for key in (self.inst_key, self.class_key):
            if key not in results:
                raise KeyError(f'ComputeObjectBoxes: results have no {key!r} map '
                               f'(keys: {sorted(results)}); load it before this transform')
        inst = np.squeeze(np.asarray(results[self.inst_key]))
        classes = np.squeeze(np.asarray(results[self.class_key]))
        if inst.shape != classes.shape:
            raise ValueError(f'ComputeObjectBoxes: {self.inst_key} map {inst.shape} and {self.class_key} map '
                             f'{classes.shape} differ in size ({results.get(self.inst_key + "_path", "")}, '
                             f'{results.get(self.class_key + "_path", "")})')
        original = (1, 1)
        if self.original_size_key is not None:
            original = tuple(int(v) for v in results[self.original_size_key][:2])
        results['objects'] = compute_object_boxes(
            inst,
            classes,
            self.part_categories,
            original_size=original,
            min_extent=self.min_extent,
            min_instance_value=self.min_instance_value)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(part_categories={self.part_categories}, '
                f'class_key={self.class_key!r}, original_size_key={self.original_size_key!r})')
