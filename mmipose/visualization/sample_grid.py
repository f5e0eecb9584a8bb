"""Sample grids: one row per image, columns label | predicted parts | synthesized | real.

Used by the training hook (:class:`mmipose.engine.hooks.IPOSESampleGridHook`), the demo and the
synthesis tool. All images are RGB uint8 numpy arrays.
"""
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch

from .palette import colorize_label, colorize_parts, label_palette

GRID_COLUMNS = ('label', 'parts', 'synthesized', 'real')


def tensor_to_rgb(image: torch.Tensor, channel_order: str = 'bgr') -> np.ndarray:
    """(3,H,W) [0,255] tensor (MMagic ``fake_img`` / ``gt_img``, BGR by default) -> (H,W,3) uint8 RGB."""
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f'tensor_to_rgb: expected a (3,H,W) image, got shape {tuple(image.shape)}.')
    array = image.detach().float().cpu().clamp(0, 255).round().byte().permute(1, 2, 0).numpy()
    return array[..., ::-1].copy() if channel_order == 'bgr' else array


def make_grid(rows: Sequence[Sequence[Optional[np.ndarray]]],
              pad: int = 2,
              pad_value: int = 255,
              titles: Optional[Sequence[str]] = None) -> np.ndarray:
    """Tile equally sized RGB images into a grid.

    Args:
        rows: rows of (H, W, 3) uint8 RGB tiles; ``None`` tiles are left blank (``pad_value``).
        pad (int): pixels between tiles and around the grid.
        pad_value (int): padding grey level.
        titles (Sequence[str], optional): column titles drawn in a header row.

    Returns:
        np.ndarray: (rows*(H+pad)+pad [+header], cols*(W+pad)+pad, 3) uint8 RGB.
    """
    tiles = [t for row in rows for t in row if t is not None]
    if not tiles:
        raise ValueError('make_grid: no images given.')
    h, w = tiles[0].shape[:2]
    for tile in tiles:
        if tile.shape != (h, w, 3) or tile.dtype != np.uint8:
            raise ValueError(f'make_grid: every tile must be ({h},{w},3) uint8 like the first one, '
                             f'got {tile.shape} {tile.dtype}.')
    num_cols = max(len(row) for row in rows)
    header = 14 if titles else 0
    grid = np.full((header + len(rows) * (h + pad) + pad, num_cols * (w + pad) + pad, 3), pad_value, np.uint8)
    for c, title in enumerate(titles or ()):
        cv2.putText(grid, str(title), (pad + c * (w + pad) + 2, header - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0),
                    1, cv2.LINE_AA)
    for r, row in enumerate(rows):
        for c, tile in enumerate(row):
            if tile is not None:
                y, x = header + pad + r * (h + pad), pad + c * (w + pad)
                grid[y:y + h, x:x + w] = tile
    return grid


def sample_row(label: np.ndarray,
               parts: np.ndarray,
               fake: np.ndarray,
               real: Optional[np.ndarray] = None,
               palette: Optional[np.ndarray] = None) -> List[Optional[np.ndarray]]:
    """One grid row from maps and RGB images.

    Args:
        label: (H, W) class ids.
        parts: (H, W) part ids 0..8.
        fake (np.ndarray): (H, W, 3) uint8 RGB synthesized image.
        real (np.ndarray, optional): (H, W, 3) uint8 RGB real image.
        palette (np.ndarray, optional): (N, 3) label colours.

    Returns:
        list: four tiles (the last is None without a real image).
    """
    return [colorize_label(label, palette=palette), colorize_parts(parts), fake, real]


def datasample_to_row(sample,
                      palette: Optional[np.ndarray] = None,
                      fake_key: str = 'fake_img') -> List[Optional[np.ndarray]]:
    """Grid row from an iPOSE ``DataSample`` (``label``, ``pred_parts``, ``fake_img``, ``gt_img``).

    ``fake_key`` may be dotted (``'ema.fake_img'``); without the key, ``ema.fake_img`` is used
    when present (``'ema/orig'`` sampling).
    """
    source = sample
    for key in fake_key.split('.')[:-1]:
        source = source.get(key)
    fake = source.get(fake_key.split('.')[-1]) if source is not None else None
    if fake is None and 'ema' in sample:
        fake = sample.ema.fake_img
    if fake is None:
        raise KeyError(f'datasample_to_row: the sample has no {fake_key!r}; keys: {sample.keys()}.')
    label = sample.label
    if palette is None:
        palette = label_palette(int(label.max()) + 1)
    real = tensor_to_rgb(sample.gt_img) if 'gt_img' in sample else None
    parts = sample.pred_parts if 'pred_parts' in sample else torch.zeros_like(label)
    return sample_row(label, parts, tensor_to_rgb(fake), real, palette)


def samples_to_grid(samples: Sequence,
                    palette: Optional[np.ndarray] = None,
                    fake_key: str = 'fake_img',
                    titles: Optional[Sequence[str]] = GRID_COLUMNS,
                    scale: int = 1) -> np.ndarray:
    """Grid (label | parts | synthesized | real) for a list of iPOSE ``DataSample`` s.

    Args:
        samples: outputs of ``IPOSE.val_step``.
        palette (np.ndarray, optional): label colours (e.g. ``dataset.metainfo['palette']``).
        fake_key (str): key of the synthesized image.
        titles: column titles, or None.
        scale (int): nearest-neighbour up-scaling of the tiles (small toy images).

    Returns:
        np.ndarray: (Hg, Wg, 3) uint8 RGB.
    """
    rows = [datasample_to_row(s, palette, fake_key) for s in samples]
    if scale > 1:
        rows = [[None if t is None else np.repeat(np.repeat(t, scale, 0), scale, 1) for t in row] for row in rows]
    if all(row[-1] is None for row in rows):
        rows = [row[:-1] for row in rows]
        titles = titles[:-1] if titles else titles
    return make_grid(rows, titles=titles)
