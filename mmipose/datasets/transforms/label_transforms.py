"""Label and instance map transforms of the real datasets."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmipose.datasets.object_boxes import INSTANCE_OFFSET
from mmipose.registry import TRANSFORMS

from ..instance_format import InstanceFormatError


def _map(results: dict, key: str) -> np.ndarray:
    if key not in results:
        raise KeyError(f'results have no {key!r} map (keys: {sorted(results)})')
    return np.asarray(results[key])


@TRANSFORMS.register_module()
class SplitADE20KInstance(BaseTransform):
    """ADE20K instance PNG (loaded as RGB): R = instance class -> ``class_key``, G = id -> ``key``."""

    def __init__(self, key: str = 'inst', class_key: str = 'inst_class'):
        self.key = key
        self.class_key = class_key

    def transform(self, results: dict) -> dict:
        rgb = _map(results, self.key)
        if rgb.ndim != 3 or rgb.shape[-1] < 2:
            raise ValueError(f'SplitADE20KInstance: {results.get(self.key + "_path", self.key)} '
                             f'must be an RGB instance PNG, got shape {rgb.shape}')
        results[self.class_key] = rgb[..., 0].astype(np.int32)
        results[self.key] = rgb[..., 1].astype(np.int32)
        return results


@TRANSFORMS.register_module()
class InstanceClassFromId(BaseTransform):
    """``class_key = inst // divisor`` (instance ids ``class * divisor + k``, e.g. COCO maps).

    A map that cannot hold such ids is an error naming the file, never a map of zero objects: an
    8-bit map while ``divisor > 255`` (e.g. SPADE's COCO-Stuff ``*_inst`` maps with per-image ids),
    or non-zero values below ``divisor`` (ids without a class) unless ``allow_bare_ids``.

    Args:
        key (str): Key of the instance map.
        class_key (str): Key of the written class map.
        divisor (int): Ids are ``class * divisor + k``.
        allow_bare_ids (bool): Accept non-zero values below ``divisor`` (class 0).
    """

    def __init__(self,
                 key: str = 'inst',
                 class_key: str = 'inst_class',
                 divisor: int = INSTANCE_OFFSET,
                 allow_bare_ids: bool = False):
        self.key = key
        self.class_key = class_key
        self.divisor = divisor
        self.allow_bare_ids = allow_bare_ids

    def transform(self, results: dict) -> dict:
        inst = np.squeeze(_map(results, self.key))
        path = results.get(self.key + '_path', self.key)
        expected = f'ids class * {self.divisor} + k'
        fix = ("for COCO-Stuff in the SPADE / authors' layout (train_inst/, val_inst/) set layout='spade' on "
               'IPOSECocoStuffDataset, or write 16-bit maps with tools/dataset_converters/coco_instances.py '
               '(docs/datasets.md)')
        if inst.dtype == np.uint8 and self.divisor > 255:
            raise InstanceFormatError(f'{path}: 8-bit instance map (values {int(inst.min())}..{int(inst.max())}) '
                                      f'where {expected} (16-bit) are expected; {fix}')
        if not self.allow_bare_ids:
            bare = np.unique(inst[(inst > 0) & (inst < self.divisor)])
            if bare.size:
                raise InstanceFormatError(f'{path}: instance values {bare[:10].tolist()} below {self.divisor} '
                                          f'carry no class ({expected} expected, 0 = no object); {fix}')
        results[self.class_key] = inst.astype(np.int32) // self.divisor
        return results


@TRANSFORMS.register_module()
class ShiftLabel(BaseTransform):
    """``label + offset``, with ``ignore_value`` mapped to ``ignore_to`` (COCO-Stuff: raw+1, 255->0)."""

    def __init__(self, key: str = 'label', offset: int = 1, ignore_value: int = 255, ignore_to: int = 0):
        self.key = key
        self.offset = offset
        self.ignore_value = ignore_value
        self.ignore_to = ignore_to

    def transform(self, results: dict) -> dict:
        label = _map(results, self.key).astype(np.int32)
        results[self.key] = np.where(label == self.ignore_value, self.ignore_to, label + self.offset)
        return results


@TRANSFORMS.register_module()
class CheckLabelRange(BaseTransform):
    """Fail early, naming the file, when a label map has ids outside ``0..num_classes-1``.

    Args:
        num_classes (int): Valid values are ``0..num_classes-1``.
        key (str): Key of the label map.
        ignore_values (Sequence[int]): Further allowed values (COCO-Stuff raw maps: 255).
    """

    def __init__(self, num_classes: int, key: str = 'label', ignore_values: Sequence[int] = ()):
        self.num_classes = num_classes
        self.key = key
        self.ignore_values = tuple(int(v) for v in ignore_values)

    def transform(self, results: dict) -> dict:
        label = _map(results, self.key)
        outside = (label < 0) | (label >= self.num_classes)
        if self.ignore_values:
            outside &= ~np.isin(label, self.ignore_values)
        bad = np.unique(label[outside])
        if bad.size:
            allowed = f'0..{self.num_classes - 1}'
            if self.ignore_values:
                allowed += f' or {list(self.ignore_values)}'
            raise ValueError(f'{results.get(self.key + "_path", self.key)}: label values '
                             f'{bad[:10].tolist()} outside {allowed}')
        return results
