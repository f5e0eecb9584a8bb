"""Write tiny datasets in the real on-disk layouts of Cityscapes, ADE20K, COCO-Stuff and the object
part dataset (PartNet pretraining, supports), for the dataset tests and the end-to-end config runs.

Every scene writer draws the same kind of scene: a background class and a few rectangular objects
of classes that have part categories, with their instance ids in the dataset's own encoding.
"""
import os
import os.path as osp
from typing import Iterable, List, Sequence

import numpy as np
from PIL import Image


def save_png(path, array: np.ndarray) -> None:
    """Save ``array`` (uint8 / uint16 (H, W) or uint8 (H, W, 3)) as an image, creating folders."""
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    Image.fromarray(array).save(str(path))


def _boxes(rng: np.random.Generator, h: int, w: int, count: int) -> List[tuple]:
    """``count`` random rectangles (y0, y1, x0, x1), each at least a quarter of the side."""
    boxes = []
    for _ in range(count):
        bh, bw = rng.integers(h // 4, h // 2 + 1), rng.integers(w // 4, w // 2 + 1)
        y0, x0 = rng.integers(0, h - bh + 1), rng.integers(0, w - bw + 1)
        boxes.append((y0, y0 + bh, x0, x0 + bw))
    return boxes


def _image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def write_cityscapes(root,
                     split: str,
                     num: int,
                     size=(32, 64),
                     seed: int = 0,
                     object_classes: Sequence[int] = (24, 26)) -> List[str]:
    """``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` + ``gtFine`` label ids and 16-bit
    instance ids (``label * 1000 + k`` for objects, the bare label id elsewhere).

    Returns:
        list[str]: the image names.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    names = []
    for i in range(num):
        stem = f'aachen_{i:06d}_000019'
        label = np.full((h, w), 7, np.uint8)  # road
        label[:h // 4] = 23  # sky
        inst = label.astype(np.uint16)
        for k, (y0, y1, x0, x1) in enumerate(_boxes(rng, h, w, 2)):
            cls = object_classes[k % len(object_classes)]
            label[y0:y1, x0:x1] = cls
            inst[y0:y1, x0:x1] = cls * 1000 + k
        save_png(osp.join(root, 'leftImg8bit', split, 'aachen', f'{stem}_leftImg8bit.png'), _image(rng, h, w))
        gt = osp.join(root, 'gtFine', split, 'aachen')
        save_png(osp.join(gt, f'{stem}_gtFine_labelIds.png'), label)
        save_png(osp.join(gt, f'{stem}_gtFine_instanceIds.png'), inst)
        names.append(stem)
    return names


def write_ade20k(root,
                 split: str,
                 num: int,
                 size=(32, 32),
                 seed: int = 0,
                 object_classes: Sequence[tuple] = ((21, 9), (13, 4))) -> List[str]:
    """``images/<split>/ADE_*.jpg``, ``annotations/<split>/*.png`` (labels 0..150) and
    ``annotations_instance/<split>/*.png`` (R = instance class, G = instance id).

    Args:
        object_classes: (semantic label, instance class) pairs of the drawn objects
            (default car 21 / instance class 9, person 13 / instance class 4).
    """
    rng = np.random.default_rng(seed)
    h, w = size
    names = []
    prefix = 'ADE_train' if split == 'training' else 'ADE_val'
    for i in range(num):
        stem = f'{prefix}_{i + 1:08d}'
        label = np.full((h, w), 3, np.uint8)  # sky
        label[h // 2:] = 7  # road
        rgb = np.zeros((h, w, 3), np.uint8)
        for k, (y0, y1, x0, x1) in enumerate(_boxes(rng, h, w, 2)):
            sem, inst_class = object_classes[k % len(object_classes)]
            label[y0:y1, x0:x1] = sem
            rgb[y0:y1, x0:x1, 0] = inst_class
            rgb[y0:y1, x0:x1, 1] = k + 1
        save_png(osp.join(root, 'images', split, f'{stem}.jpg'), _image(rng, h, w))
        save_png(osp.join(root, 'annotations', split, f'{stem}.png'), label)
        save_png(osp.join(root, 'annotations_instance', split, f'{stem}.png'), rgb)
        names.append(stem)
    return names


def write_coco_stuff(root,
                     split: str,
                     num: int,
                     size=(32, 32),
                     seed: int = 0,
                     object_categories: Sequence[int] = (3, 1)) -> List[str]:
    """``<split>/*.jpg``, ``stuffthingmaps_trainval2017/<split>/*.png`` (raw ids, 255 unlabeled)
    and the 16-bit ``instance_maps/<split>/*.png`` (``category_id * 256 + k``), the layout that
    ``tools/dataset_converters/coco_instances.py`` writes.

    Args:
        object_categories: COCO category ids of the objects (raw stuff-map id = category - 1).
    """
    rng = np.random.default_rng(seed)
    h, w = size
    names = []
    for i in range(num):
        stem = f'{i + 139:012d}'
        raw = np.full((h, w), 255, np.uint8)
        raw[:h // 2] = 156  # sky-other (category 157)
        inst = np.zeros((h, w), np.uint16)
        for k, (y0, y1, x0, x1) in enumerate(_boxes(rng, h, w, 2)):
            category = object_categories[k % len(object_categories)]
            raw[y0:y1, x0:x1] = category - 1
            inst[y0:y1, x0:x1] = category * 256 + k + 1
        save_png(osp.join(root, split, f'{stem}.jpg'), _image(rng, h, w))
        save_png(osp.join(root, 'stuffthingmaps_trainval2017', split, f'{stem}.png'), raw)
        save_png(osp.join(root, 'instance_maps', split, f'{stem}.png'), inst)
        names.append(stem)
    return names


def part_map(seed: int, size: int = 64) -> np.ndarray:
    """A (size, size) uint8 object part map: three parts (1..3) inside a box on background 0."""
    s = size / 64
    part = np.zeros((size, size), np.uint8)
    top = int((10 + seed % 8) * s)
    part[top:int(50 * s), int(20 * s):int(44 * s)] = 1
    part[top:int(20 * s), int(20 * s):int(44 * s)] = 2
    part[int(40 * s):int(50 * s), int(20 * s):int(30 * s)] = 3
    return part


def write_part_pair(root, category: int, split: str, name: str, part: np.ndarray) -> None:
    """One object of the part dataset: ``<root>/<category>/<split>/<name>_label.png`` (shape) and
    ``<name>_part.png`` (part indices), as ``tools/build_part_dataset.py`` writes them."""
    folder = osp.join(str(root), str(category), split)
    save_png(osp.join(folder, f'{name}_label.png'), (part > 0).astype(np.uint8))
    save_png(osp.join(folder, f'{name}_part.png'), part.astype(np.uint8))


def write_part_dataset(root,
                       categories: Iterable[int],
                       splits: Sequence[str] = ('train', 'val'),
                       per_category: int = 2) -> None:
    """``per_category`` objects of every category in every split of the object part dataset."""
    for category in categories:
        for split in splits:
            for i in range(per_category):
                write_part_pair(root, category, split, f'{split}_{i}', part_map(category + i))


def write_supports(root, folders: Iterable, k: int = 3) -> None:
    """``<root>/<folder>/<i>_part.png``: k support part maps per folder (``select_supports.py``
    layout, with the ``part.png`` ending the reference's support folders use)."""
    for folder in folders:
        for i in range(k):
            save_png(osp.join(str(root), str(folder), f'{i}_part.png'), part_map(int(folder) + i))


def write_coco_stuff_spade(root,
                           split: str,
                           num: int,
                           size=(32, 32),
                           seed: int = 0,
                           object_categories: Sequence[int] = (3, 1),
                           with_dict: bool = False) -> List[str]:
    """The scenes of :func:`write_coco_stuff` in the layout of SPADE and the iPOSE authors' code:
    ``<split>_img/*.jpg``, ``<split>_label/*.png`` (raw ids) and 8-bit ``<split>_inst/*.png``, a copy
    of the label map with the objects overwritten by a running count 0, 1... (SPADE's
    ``coco_generate_instance_map.py``); with ``with_dict`` also ``<split>_dict.npy`` (``np.save`` of
    label file name -> rows ``[label, instance id, hs, he, ws, we, H, W]``, the authors' dict format).

    Args:
        split: 'train' or 'val'.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    names, rows_of = [], {}
    for i in range(num):
        stem = f'{i + 139:012d}'
        raw = np.full((h, w), 255, np.uint8)
        raw[:h // 2] = 156
        inst = raw.copy()
        for k, (y0, y1, x0, x1) in enumerate(_boxes(rng, h, w, 2)):
            category = object_categories[k % len(object_categories)]
            raw[y0:y1, x0:x1] = category - 1
            inst[y0:y1, x0:x1] = k
        save_png(osp.join(root, f'{split}_img', f'{stem}.jpg'), _image(rng, h, w))
        save_png(osp.join(root, f'{split}_label', f'{stem}.png'), raw)
        save_png(osp.join(root, f'{split}_inst', f'{stem}.png'), inst)
        rows = []
        for label_value in np.unique(raw):
            for inst_id in np.unique(inst[raw == label_value]):
                ys, xs = np.nonzero((raw == label_value) & (inst == inst_id))
                rows.append([label_value, inst_id, ys.min(), ys.max(), xs.min(), xs.max(), h, w])
        rows_of[f'{stem}.png'] = rows
        names.append(stem)
    if with_dict:
        np.save(osp.join(str(root), f'{split}_dict.npy'), rows_of)
    return names
