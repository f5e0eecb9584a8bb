"""Checks run right after loading, while the maps still have their stored sizes."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmipose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CheckMapSizes(BaseTransform):
    """Fail when the loaded image and its label / instance maps differ in size.

    Put it after the loaders and before any resize: a resize to the working size would hide a
    label map that belongs to another image (or another resolution) and silently misalign
    every box. The error names both files (``<key>_path``).

    Args:
        keys (Sequence[str]): Keys to compare; the first one is the reference
            (``('img', 'label', 'inst')``).
    """

    def __init__(self, keys: Sequence[str] = ('img', 'label', 'inst')):
        if len(keys) < 2:
            raise ValueError(f'CheckMapSizes: needs at least two keys, got {keys}')
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        missing = [key for key in self.keys if key not in results]
        if missing:
            raise KeyError(f'CheckMapSizes: results have no {missing} (keys: {sorted(results)}); '
                           'load them before this transform')
        first = self.keys[0]
        size = np.asarray(results[first]).shape[:2]
        for key in self.keys[1:]:
            other = np.asarray(results[key]).shape[:2]
            if other != size:
                raise ValueError(f'{key} map {results.get(key + "_path", key)} is {other[0]}x{other[1]} but '
                                 f'{first} {results.get(first + "_path", first)} is {size[0]}x{size[1]} '
                                 '(H x W); they must have the same size')
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys})'


@TRANSFORMS.register_module()
class CastMaps(BaseTransform):
    """Cast integer maps, e.g. 16-bit instance ids, to a dtype torch handles everywhere.

    Cityscapes and COCO instance PNGs load as uint16, which would become ``torch.uint16``
    tensors (many ops, e.g. ``max``, are not implemented for them); int32 keeps every id.

    Args:
        keys (Sequence[str]): Keys to cast.
        dtype (str): numpy dtype name. Defaults to 'int32'.
    """

    def __init__(self, keys: Sequence[str] = ('label', 'inst'), dtype: str = 'int32'):
        self.keys = tuple(keys)
        self.dtype = np.dtype(dtype)

    def transform(self, results: dict) -> dict:
        for key in self.keys:
            if key not in results:
                raise KeyError(f'CastMaps: results have no {key!r} (keys: {sorted(results)})')
            results[key] = np.asarray(results[key]).astype(self.dtype, copy=False)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys}, dtype={self.dtype.name})'
