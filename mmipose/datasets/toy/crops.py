"""Square 64x64 object crops made with the reference's synthesis-time crop rule.

PartNet sees objects through this rule at synthesis (the authors' ``PartGenerator``, square objects):
box of the object's visible mask -> expand by 2 px and clip -> make both extents even -> slice
(``he``/``we`` as exclusive ends) -> zero-pad to a centred square -> legacy-nearest resize to 64.
The part dataset and the supports written for the toy scenes use the same rule, so PartNet is
pretrained on exactly the kind of query it gets inside iPOSE.
"""
from typing import Tuple

import numpy as np

from ..object_boxes import make_even_extent


def mask_box(mask: np.ndarray) -> Tuple[int, int, int, int]:
    """Inclusive min/max rows and columns ``(hs, he, ws, we)`` of a non-empty (H, W) bool mask."""
    rows = np.flatnonzero(mask.any(1))
    cols = np.flatnonzero(mask.any(0))
    if rows.size == 0:
        raise ValueError('mask_box: the mask is empty.')
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def expand_box(box: Tuple[int, int, int, int], height: int, width: int) -> Tuple[int, int, int, int]:
    """Expand by 2 px, clip to the image and make ``he-hs`` / ``we-ws`` even (the synthesis rule)."""
    hs, he, ws, we = box
    hs, ws, he, we = max(0, hs - 2), max(0, ws - 2), min(he + 2, height), min(we + 2, width)
    hs, he = make_even_extent(hs, he, height)
    ws, we = make_even_extent(ws, we, width)
    return hs, he, ws, we


def nearest_resize(array: np.ndarray, size: int) -> np.ndarray:
    """Legacy ``F.interpolate(mode='nearest')`` of a (h, w) array to (size, size): src = floor(dst * in/out)."""
    h, w = array.shape
    rows = np.minimum((np.arange(size) * (h / size)).astype(np.int64), h - 1)
    cols = np.minimum((np.arange(size) * (w / size)).astype(np.int64), w - 1)
    return array[rows[:, None], cols[None, :]]


def square_crop(array: np.ndarray, box: Tuple[int, int, int, int], size: int = 64) -> np.ndarray:
    """Slice ``array[hs:he, ws:we]``, zero-pad to a centred square and nearest-resize to ``size``.

    Args:
        array (np.ndarray): (H, W) map (mask or part ids).
        box: expanded box from :func:`expand_box`.
        size (int): output side.

    Returns:
        np.ndarray: (size, size), same dtype as ``array``.
    """
    hs, he, ws, we = box
    crop = array[hs:he, ws:we]
    h, w = crop.shape
    if h == 0 or w == 0:
        raise ValueError(f'square_crop: empty crop for box {box} of an array of shape {array.shape}.')
    side = max(h, w)
    square = np.zeros((side, side), array.dtype)
    top, left = (side - h) // 2, (side - w) // 2
    square[top:top + h, left:left + w] = crop
    return nearest_resize(square, size)


def object_crop(inst: np.ndarray,
                parts: np.ndarray,
                instance_value: int,
                size: int = 64) -> Tuple[np.ndarray, np.ndarray]:
    """Crop one object's binary shape and its part map (parts outside the object zeroed).

    Args:
        inst (np.ndarray): (H, W) instance map.
        parts (np.ndarray): (H, W) part ids.
        instance_value (int): the object's value in ``inst``.
        size (int): output side.

    Returns:
        tuple: ``(shape (size,size) uint8 in {0,1}, part map (size,size) uint8 in 0..8)``.
    """
    mask = inst == instance_value
    box = expand_box(mask_box(mask), *mask.shape)
    shape = square_crop(mask.astype(np.uint8), box, size)
    part_map = square_crop(np.where(mask, parts, 0).astype(np.uint8), box, size)
    return shape, part_map
