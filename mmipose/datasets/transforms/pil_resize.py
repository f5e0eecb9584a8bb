"""Resizing with Pillow, pixel for pixel as the reference's torchvision/PIL dataset loaders."""
from typing import Dict, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image

from mmipose.registry import TRANSFORMS

_FILTERS = {'nearest': Image.NEAREST, 'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC}
_INT32 = np.iinfo(np.int32)


def pil_resize(array: np.ndarray, size: Tuple[int, int], interpolation: str, name: str = 'array') -> np.ndarray:
    """Resize an (H, W) or (H, W, C) array with ``PIL.Image.resize`` and return (h, w, C).

    ``'bicubic'`` / ``'bilinear'`` take uint8 arrays with 1 or 3 channels (PIL modes ``L`` /
    ``RGB``; the filter works per channel, so BGR data resizes the same). ``'nearest'`` takes
    integer maps of any width whose values fit int32 (PIL mode ``I``, so 16-bit and int32 ids
    stay intact) and float32 maps (mode ``F``), one channel at a time, and returns the input dtype.

    Args:
        array (np.ndarray): (H, W) or (H, W, C).
        size (tuple[int, int]): Target (w, h).
        interpolation (str): 'nearest', 'bilinear' or 'bicubic'.
        name (str): What ``array`` is, for error messages.

    Returns:
        np.ndarray: (h, w, C), C = 1 for a 2D input.
    """
    if interpolation not in _FILTERS:
        raise ValueError(f'PILResize: interpolation must be one of {sorted(_FILTERS)}, got {interpolation!r}')
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise ValueError(f'PILResize: {name} must be (H, W) or (H, W, C), got shape {array.shape}')
    resample = _FILTERS[interpolation]
    if interpolation != 'nearest':
        if array.dtype != np.uint8 or array.shape[2] not in (1, 3):
            raise TypeError(f'PILResize: {interpolation} resizing of {name} needs a uint8 image with 1 or 3 '
                            f'channels, got {array.dtype} {array.shape}; use interpolation="nearest" for maps')
        image = Image.fromarray(np.ascontiguousarray(array[..., 0] if array.shape[2] == 1 else array))
        return _as_hwc(np.array(image.resize(size, resample)))  # writable: later steps flip in place
    if array.dtype == np.float32:
        work = array
    elif np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_:
        if array.size and (array.min() < _INT32.min or array.max() > _INT32.max):
            raise ValueError(f'PILResize: {name} has values in [{array.min()}, {array.max()}], outside int32')
        work = array.astype(np.int32)
    else:
        raise TypeError(f'PILResize: nearest resizing of {name} takes integer or float32 maps, got {array.dtype}')
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(work[..., c])).resize(size, resample))
        for c in range(work.shape[2])
    ]
    return np.stack(channels, axis=2).astype(array.dtype, copy=False)


def _as_hwc(array: np.ndarray) -> np.ndarray:
    return array[..., None] if array.ndim == 2 else array


@TRANSFORMS.register_module()
class PILResize(BaseTransform):
    """Resize images and maps to a fixed size with Pillow, as the reference's loaders do.

    The authors' loaders resize PIL images with torchvision: ``BICUBIC`` for photos (Pillow's
    antialiased filter) and ``NEAREST`` for label and instance maps. OpenCV's bicubic (MMagic's
    ``Resize``) gives other pixels, and its nearest samples ``floor(x * s)`` where Pillow samples
    ``floor((x + 0.5) * s)``, which moves maps and boxes when shrinking. mmcv's pillow backend takes
    uint8 only, while instance maps are 16-bit; here maps go through PIL mode ``I`` (int32).

    A drop-in for MMagic's ``Resize`` with a fixed ``scale``: the same ``scale=(w, h)`` order, 2D
    maps come back as (h, w, 1), and ``<key>_shape``, ``scale_factor`` (w, h), ``keep_ratio`` and
    ``interpolation`` are written.

    Args:
        keys (str | Sequence[str]): Keys to resize (missing keys are skipped, as MMagic's Resize).
        scale (tuple[int, int]): Target size (w, h).
        interpolation (str): 'bicubic' / 'bilinear' for uint8 images, 'nearest' for maps.
            Defaults to 'bicubic'.
    """

    def __init__(self,
                 keys: Union[str, Sequence[str]] = 'img',
                 scale: Tuple[int, int] = None,
                 interpolation: str = 'bicubic') -> None:
        self.keys = [keys] if isinstance(keys, str) else list(keys)
        if not self.keys:
            raise ValueError('PILResize: keys must not be empty')
        if (not isinstance(scale, (tuple, list)) or len(scale) != 2
                or not all(isinstance(s, (int, np.integer)) and s > 0 for s in scale)):
            raise ValueError(f'PILResize: scale must be (w, h) with positive ints, got {scale!r}')
        if interpolation not in _FILTERS:
            raise ValueError(f'PILResize: interpolation must be one of {sorted(_FILTERS)}, got {interpolation!r}')
        self.scale = (int(scale[0]), int(scale[1]))
        self.interpolation = interpolation

    def transform(self, results: Dict) -> Dict:
        w, h = self.scale
        for key in self.keys:
            if key not in results:
                continue
            old_h, old_w = np.asarray(results[key]).shape[:2]
            name = f'{key} ({results[key + "_path"]})' if key + '_path' in results else key
            results[key] = pil_resize(results[key], self.scale, self.interpolation, name)
            results[f'{key}_shape'] = results[key].shape
            results['scale_factor'] = np.array((w / old_w, h / old_h), dtype=np.float32)
        results['keep_ratio'] = False
        results['interpolation'] = self.interpolation
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(keys={self.keys}, scale={self.scale}, interpolation={self.interpolation})'
