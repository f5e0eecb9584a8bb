"""Colour tables and colourising of semantic label maps and part maps.

Everything here is pure numpy and deterministic, so tests, tools, the demo and the training
hook produce the same colours for the same ids. Colours are RGB uint8 unless a function takes
``channel_order='bgr'`` (what MMagic's visualizer expects for images in ``DataSample``).
"""
from typing import Optional, Sequence, Union

import numpy as np
import torch

ArrayLike = Union[np.ndarray, torch.Tensor]

#: Number of part channels of PartNet (index 0 = background / no object).
NUM_PART_CHANNELS = 9

# Part colours: 0 is a dark grey (background) so that "no part" differs from black image
# regions; 1..8 are well separated hues that stay distinguishable when printed small.
_PART_COLORS = np.array(
    [
        [40, 40, 40],  # 0 background / not an object
        [230, 25, 75],  # 1 red
        [60, 180, 75],  # 2 green
        [255, 225, 25],  # 3 yellow
        [0, 130, 200],  # 4 blue
        [245, 130, 48],  # 5 orange
        [145, 30, 180],  # 6 purple
        [70, 240, 240],  # 7 cyan
        [240, 50, 230],  # 8 magenta
    ],
    dtype=np.uint8)


def part_palette() -> np.ndarray:
    """The fixed part colour table.

    Returns:
        np.ndarray: (9, 3) uint8 RGB, row p = colour of part index p (0 = background).
    """
    return _PART_COLORS.copy()


def label_palette(num_classes: int) -> np.ndarray:
    """A deterministic colour table for ``num_classes`` semantic classes.

    Uses the bit-interleaving scheme of the PASCAL VOC colour map (class id bits spread over
    the high bits of R, G and B), which gives distinct colours for the first few hundred ids
    and class 0 = black (the usual "don't care").

    Args:
        num_classes (int): number of classes (>= 1).

    Returns:
        np.ndarray: (num_classes, 3) uint8 RGB.
    """
    if num_classes < 1:
        raise ValueError(f'label_palette: num_classes must be >= 1, got {num_classes}.')
    ids = np.arange(num_classes, dtype=np.int64)
    palette = np.zeros((num_classes, 3), dtype=np.int64)
    code = ids.copy()
    for shift in range(7, -1, -1):
        for channel in range(3):
            palette[:, channel] |= ((code >> channel) & 1) << shift
        code >>= 3
    return palette.astype(np.uint8)


def _to_numpy_map(index_map: ArrayLike, name: str) -> np.ndarray:
    """Accept (H,W), (1,H,W) or (H,W,1) integer maps as numpy or torch and return (H,W) int64."""
    if isinstance(index_map, torch.Tensor):
        index_map = index_map.detach().cpu().numpy()
    index_map = np.asarray(index_map)
    if index_map.ndim == 3 and index_map.shape[0] == 1:
        index_map = index_map[0]
    elif index_map.ndim == 3 and index_map.shape[-1] == 1:
        index_map = index_map[..., 0]
    if index_map.ndim != 2:
        raise ValueError(f'{name}: expected an index map of shape (H,W), (1,H,W) or (H,W,1), '
                         f'got shape {index_map.shape}.')
    if np.issubdtype(index_map.dtype, np.floating):
        rounded = np.rint(index_map)
        if not np.array_equal(rounded, index_map):
            raise ValueError(f'{name}: expected integer ids, got non-integer values.')
        index_map = rounded
    return index_map.astype(np.int64)


def colorize_index_map(index_map: ArrayLike,
                       palette: np.ndarray,
                       channel_order: str = 'rgb',
                       name: str = 'colorize_index_map') -> np.ndarray:
    """Look up every id of an index map in a colour table.

    Args:
        index_map: (H,W) / (1,H,W) / (H,W,1) integer ids in ``0..len(palette)-1``.
        palette (np.ndarray): (N, 3) uint8 RGB colours.
        channel_order (str): ``'rgb'`` or ``'bgr'`` for the output.
        name (str): caller name used in error messages.

    Returns:
        np.ndarray: (H, W, 3) uint8 image.
    """
    ids = _to_numpy_map(index_map, name)
    palette = np.asarray(palette, dtype=np.uint8)
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError(f'{name}: palette must have shape (N, 3), got {palette.shape}.')
    if ids.size and (ids.min() < 0 or ids.max() >= len(palette)):
        raise ValueError(f'{name}: ids must lie in 0..{len(palette) - 1}, '
                         f'got range {ids.min()}..{ids.max()}.')
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"{name}: channel_order must be 'rgb' or 'bgr', got {channel_order!r}.")
    image = palette[ids]
    return image[..., ::-1].copy() if channel_order == 'bgr' else image


def colorize_label(label: ArrayLike,
                   num_classes: Optional[int] = None,
                   palette: Optional[Union[np.ndarray, Sequence[Sequence[int]]]] = None,
                   channel_order: str = 'rgb') -> np.ndarray:
    """Colourise a semantic label map.

    Args:
        label: (H,W) / (1,H,W) / (H,W,1) class ids.
        num_classes (int, optional): size of :func:`label_palette` to use when no palette is
            given; defaults to ``max(label) + 1``.
        palette (array, optional): (N, 3) RGB colours, e.g. a dataset's ``METAINFO['palette']``.
        channel_order (str): ``'rgb'`` or ``'bgr'``.

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    if palette is None:
        if num_classes is None:
            num_classes = int(_to_numpy_map(label, 'colorize_label').max(initial=0)) + 1
        palette = label_palette(num_classes)
    return colorize_index_map(label, np.asarray(palette, dtype=np.uint8), channel_order, name='colorize_label')


def colorize_parts(parts: ArrayLike, channel_order: str = 'rgb') -> np.ndarray:
    """Colourise a part-index map (0 = background, 1..8 = parts) with :func:`part_palette`.

    Args:
        parts: (H,W) / (1,H,W) / (H,W,1) part ids in 0..8.
        channel_order (str): ``'rgb'`` or ``'bgr'``.

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    return colorize_index_map(parts, _PART_COLORS, channel_order, name='colorize_parts')


def overlay_parts(image: np.ndarray, parts: ArrayLike, alpha: float = 0.5) -> np.ndarray:
    """Blend coloured parts over an RGB image where a part is present (part id > 0).

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB.
        parts: (H, W) part ids in 0..8.
        alpha (float): opacity of the part colours.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB.
    """
    ids = _to_numpy_map(parts, 'overlay_parts')
    if image.shape[:2] != ids.shape:
        raise ValueError(f'overlay_parts: image {image.shape[:2]} and parts {ids.shape} '
                         'must have the same size.')
    colours = colorize_parts(ids).astype(np.float32)
    blended = image.astype(np.float32)
    inside = ids > 0
    blended[inside] = (1 - alpha) * blended[inside] + alpha * colours[inside]
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
