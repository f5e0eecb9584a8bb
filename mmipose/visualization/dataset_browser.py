"""Render dataset samples after the config's pipeline (``tools/analysis/browse_dataset.py``).

Scene datasets (toy, Cityscapes, ADE20K, COCO-Stuff) give one row per sample: the image with the object
boxes, the label map in the dataset's palette, the objects of the instance map (each in its box's
colour), the 64x64 object masks PartNet sees (``crop_object_masks``, the model's own crop path) and,
where the dataset has them, the ground-truth part maps. PartNet's part dataset gives (object shape,
part map) pairs, an MMSeg dataset (the segmenter configs) (image, label). All tiles are RGB uint8.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from .palette import colorize_label, colorize_parts, label_palette, part_palette
from .sample_grid import make_grid, tensor_to_rgb

SCENE_COLUMNS = ('image + boxes', 'label', 'objects', 'PartNet crops 64x64', 'parts (ground truth)')
PART_PAIR_COLUMNS = ('object shape', 'part map')
SEGMENTATION_COLUMNS = ('image', 'label')
_DIM = 40  # background grey of the object and crop tiles


def box_colour(index: int) -> Tuple[int, int, int]:
    """RGB colour of the ``index``-th object (the part palette's hues 1..8, cycled)."""
    palette = part_palette()
    return tuple(int(c) for c in palette[1 + index % (len(palette) - 1)])


def _numpy_map(tensor) -> np.ndarray:
    array = tensor.numpy() if isinstance(tensor, torch.Tensor) else np.asarray(tensor)
    return np.squeeze(array).astype(np.int64)


def _upscale(tile: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(tile, scale, 0), scale, 1) if scale > 1 else tile


def draw_boxes(image: np.ndarray, objects: np.ndarray, scale: int = 1) -> np.ndarray:
    """``image`` (H*scale, W*scale, 3) with each object row's box (``he``/``we`` exclusive ends) drawn."""
    image = image.copy()
    for i, row in enumerate(np.asarray(objects).reshape(-1, 8)):
        hs, he, ws, we = (int(v) * scale for v in row[2:6])
        cv2.rectangle(image, (ws, hs), (max(ws, we - 1), max(hs, he - 1)), box_colour(i), 1)
    return image


def colorize_objects(inst: np.ndarray, objects: np.ndarray) -> np.ndarray:
    """Object pixels in their box colour, other instance ids grey, no instance dark (H, W, 3)."""
    tile = np.full(inst.shape + (3, ), _DIM, np.uint8)
    tile[inst != 0] = 110
    for i, row in enumerate(np.asarray(objects).reshape(-1, 8)):
        tile[inst == int(row[0])] = box_colour(i)
    return tile


def _crop_layout(count: int, height: int, width: int, size: int) -> Tuple[int, int, int]:
    """(side, rows, cols): the largest crop side <= ``size`` (>= 16) at which ``count`` crops fit the tile."""
    side = min(size, height)
    while True:
        rows, cols = max(1, (height + 2) // (side + 2)), max(1, (width + 2) // (side + 2))
        if rows * cols >= count or side <= 16:
            return side, rows, cols
        side -= 1


def crops_tile(inst: np.ndarray, objects: np.ndarray, height: int, width: int, size: int = 64) -> np.ndarray:
    """The PartNet query masks of the objects, in their box colours, tiled on a (height, width) tile.

    Crops are drawn at ``size`` pixels when they fit, else smaller (at least 16); crops that still do not
    fit are counted in a ``+n`` mark.
    """
    from mmipose.models.partnet.object_parts import crop_object_masks, plan_object_crop
    tile = np.full((height, width, 3), 255, np.uint8)
    rows = np.asarray(objects).reshape(-1, 8)
    if not len(rows):
        cv2.putText(tile, 'no objects', (4, min(height - 4, 16)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                    cv2.LINE_AA)
        return tile
    side, grid_rows, grid_cols = _crop_layout(len(rows), height, width, size)
    slots = grid_rows * grid_cols
    shown = len(rows) if len(rows) <= slots else slots - 1
    crops = [plan_object_crop(0, row.tolist(), *inst.shape) for row in rows[:shown]]
    masks = crop_object_masks(torch.from_numpy(inst)[None, None], crops, size)[:, 0].numpy() > 0
    for i, mask in enumerate(masks):
        crop = np.full((size, size, 3), _DIM, np.uint8)
        crop[mask] = box_colour(i)
        y, x = (i // grid_cols) * (side + 2), (i % grid_cols) * (side + 2)
        tile[y:y + side, x:x + side] = cv2.resize(crop, (side, side), interpolation=cv2.INTER_NEAREST)
    if shown < len(rows):
        y, x = (shown // grid_cols) * (side + 2), (shown % grid_cols) * (side + 2)
        cv2.putText(tile, f'+{len(rows) - shown}', (x + 4, y + side // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0),
                    1, cv2.LINE_AA)
    return tile


def _read_parts(path: str, shape: Tuple[int, int]) -> np.ndarray:
    parts = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if parts is None:
        raise FileNotFoundError(f'cannot read part map {path}')
    if parts.shape[:2] != shape:
        parts = cv2.resize(parts, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return parts


def scene_row(sample: dict,
              data_info: dict,
              palette: Optional[np.ndarray] = None,
              scale: int = 1) -> Dict[str, Optional[np.ndarray]]:
    """Tiles of one packed scene sample (``inputs`` img / label / inst, ``data_samples.metainfo['objects']``).

    Args:
        sample (dict): ``dataset[i]``.
        data_info (dict): ``dataset.get_data_info(i)`` (for ``gt_parts_path``).
        palette (np.ndarray, optional): (C, 3) label colours; default :func:`label_palette`.
        scale (int): Nearest up-scaling of every tile.

    Returns:
        dict: column name (:data:`SCENE_COLUMNS`) -> (H*scale, W*scale, 3) tile, ``parts`` None without
        part maps.
    """
    inputs = sample['inputs']
    objects = np.asarray(sample['data_samples'].metainfo.get('objects', np.zeros((0, 8)))).reshape(-1, 8)
    label = _numpy_map(inputs['label'])
    inst = _numpy_map(inputs['inst'])
    if palette is None or len(palette) <= label.max():
        palette = label_palette(max(int(label.max()) + 1, 1))
    image = _upscale(tensor_to_rgb(inputs['img'], channel_order='bgr'), scale)
    height, width = image.shape[:2]
    parts = None
    if data_info.get('gt_parts_path'):
        parts = _upscale(colorize_parts(_read_parts(data_info['gt_parts_path'], label.shape)), scale)
    return {
        'image + boxes': draw_boxes(image, objects, scale),
        'label': _upscale(colorize_label(label, palette=palette), scale),
        'objects': _upscale(colorize_objects(inst, objects), scale),
        'PartNet crops 64x64': crops_tile(inst, objects, height, width),
        'parts (ground truth)': parts,
    }


def part_pair_row(sample: dict, scale: int = 1) -> Dict[str, np.ndarray]:
    """Tiles of one PartNet-dataset sample (``inputs`` shape (1,H,W), part (H,W))."""
    shape = _numpy_map(sample['inputs']['shape']) > 0
    tile = np.full(shape.shape + (3, ), _DIM, np.uint8)
    tile[shape] = 255
    return {
        'object shape': _upscale(tile, scale),
        'part map': _upscale(colorize_parts(_numpy_map(sample['inputs']['part'])), scale)
    }


def segmentation_row(sample: dict, palette: Optional[np.ndarray] = None, scale: int = 1) -> Dict[str, np.ndarray]:
    """Tiles of one MMSeg sample (``inputs`` (3,H,W) BGR, ``data_samples.gt_sem_seg``)."""
    label = _numpy_map(sample['data_samples'].gt_sem_seg.data)
    if palette is None or len(palette) <= label.max():
        palette = label_palette(max(int(label.max()) + 1, 1))
    return {
        'image': _upscale(tensor_to_rgb(sample['inputs'], channel_order='bgr'), scale),
        'label': _upscale(colorize_label(label, palette=palette), scale)
    }


def _is_scene(sample: dict) -> bool:
    return isinstance(sample.get('inputs'), dict) and {'img', 'label', 'inst'} <= set(sample['inputs'])


def auto_scale(height: int, min_height: int = 128) -> int:
    """Integer up-scaling that makes tiles at least ``min_height`` high (toy scenes are 64 pixels)."""
    return max(1, -(-min_height // max(height, 1)))


def browse_rows(dataset,
                indices: Sequence[int],
                scale: Optional[int] = None) -> Tuple[List[str], List[List[Optional[np.ndarray]]], List[str]]:
    """Rows of tiles for ``dataset[i]``, ``i`` in ``indices``.

    Returns:
        tuple: column titles, rows (lists of tiles; columns absent from every row are dropped) and
        one name per row (``image_name`` or ``<category>_<name>``).
    """
    palette = dataset.metainfo.get('palette')
    palette = None if palette is None else np.asarray(palette, np.uint8)
    rows, names, columns = [], [], None
    for index in indices:
        sample = dataset[index]
        info = dataset.get_data_info(index)
        if _is_scene(sample):
            s = scale or auto_scale(int(sample['inputs']['img'].shape[-2]))
            tiles, columns = scene_row(sample, info, palette, s), SCENE_COLUMNS
            names.append(str(info.get('image_name', index)))
        elif isinstance(sample.get('inputs'), dict) and 'shape' in sample['inputs']:
            s = scale or auto_scale(int(sample['inputs']['shape'].shape[-2]))
            tiles, columns = part_pair_row(sample, s), PART_PAIR_COLUMNS
            names.append(f'{info.get("category", "")}_{info.get("name", index)}')
        elif isinstance(sample.get('inputs'), torch.Tensor) and 'gt_sem_seg' in sample.get('data_samples', {}):
            s = scale or auto_scale(int(sample['inputs'].shape[-2]))
            tiles, columns = segmentation_row(sample, palette, s), SEGMENTATION_COLUMNS
            names.append(osp.splitext(osp.basename(str(info.get('img_path', index))))[0])
        else:
            raise ValueError(f'{type(dataset).__name__}: samples have neither scene inputs (img, label, inst), '
                             f'part pairs (shape, part) nor MMSeg inputs; got {sorted(sample)}')
        rows.append([tiles[c] for c in columns])
    keep = [c for c in range(len(columns or ())) if any(row[c] is not None for row in rows)]
    return [columns[c] for c in keep], [[row[c] for c in keep] for row in rows], names


def render_grid(dataset, num: int = 4, scale: Optional[int] = None, start: int = 0) -> np.ndarray:
    """One grid image (titled columns, a row per sample) of ``num`` samples from ``start``.

    Returns:
        np.ndarray: (Hg, Wg, 3) uint8 RGB.
    """
    indices = list(range(start, min(len(dataset), start + num)))
    if not indices:
        raise ValueError(f'no samples to render: the dataset has {len(dataset)}, start={start}')
    titles, rows, _ = browse_rows(dataset, indices, scale)
    return make_grid(rows, titles=titles)


def write_sample_images(dataset, out_dir: str, num: int = 4, scale: Optional[int] = None, start: int = 0) -> List[str]:
    """One PNG per sample (``<out_dir>/<name>.png``, its row with titles). Returns the paths."""
    indices = list(range(start, min(len(dataset), start + num)))
    titles, rows, names = browse_rows(dataset, indices, scale)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for row, name in zip(rows, names):
        path = osp.join(out_dir, f'{name}.png')
        save_png(path, make_grid([row], titles=titles))
        paths.append(path)
    return paths


def save_png(path: str, image: np.ndarray) -> None:
    """Write an RGB uint8 image as a maximally compressed PNG (creating the folder)."""
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    if not cv2.imwrite(path, np.ascontiguousarray(image[..., ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f'cannot write {path}')
