"""Build the 64x64 object part dataset (paper Sec. 4.1) from Cityscapes- and PASCAL-Panoptic-Parts.

Every object instance of a class with parts is cropped to its box (the synthesis-time crop rule of
``mmipose.datasets.toy.crops``: box + 2 px, even extents, zero-padded to a centred square, legacy
nearest resize), so PartNet is pretrained on exactly the queries it gets inside iPOSE. Output
(reference layout, read by ``PartNetDataset``)::

    <out>/<category id>/<train|val>/<name>_label.png   uint8 0/1 object shape
    <out>/<category id>/<train|val>/<name>_part.png    uint8 part indices 0..8 (0 = background)

``<name>`` = ``<source>_<image stem>_<sid>_<iid>``. Category ids: 1..20 PASCAL VOC order,
24..28 Cityscapes person, rider, car, truck, bus. Splits follow the sources: CPP train/val,
PPP training/validation. Part ids -> indices: ``mmipose.datasets.part_index_tables`` or
``--part-indices file.json`` ({"pascal"|"cityscapes": {sid: {part name: index}}}).

Example::

    python tools/build_part_dataset.py --cityscapes data/cityscapes_panoptic_parts \\
        --pascal data/pascal_panoptic_parts --out data/Full_Parts --min-size 16
"""
import argparse
import glob
import json
import os
import os.path as osp
from collections import Counter
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
from PIL import Image
from tqdm import tqdm

from mmipose.datasets.panoptic_parts_reader import decode_uids, part_index_lookup, read_uids
from mmipose.datasets.part_index_tables import CATEGORY_OF_SID, DEFAULT_PART_INDICES
from mmipose.datasets.toy.crops import expand_box, mask_box, square_crop

#: (dataset, split in output) -> glob of label files relative to the dataset root.
SOURCE_GLOBS = {
    ('cityscapes', 'train'): 'gtFinePanopticParts/train/*/*_gtFinePanopticParts.tif',
    ('cityscapes', 'val'): 'gtFinePanopticParts/val/*/*_gtFinePanopticParts.tif',
    ('pascal', 'train'): 'labels/training/*.tif',
    ('pascal', 'val'): 'labels/validation/*.tif',
}


def extract_objects(uids: np.ndarray,
                    part_tables: Dict[int, np.ndarray],
                    min_size: int = 16,
                    size: int = 64) -> Tuple[List[Tuple[int, int, np.ndarray, np.ndarray]], int]:
    """Crops of every object with parts in one uid map.

    Args:
        uids (np.ndarray): (H, W) panoptic-parts uids.
        part_tables (dict): {sid: (100,) pid -> part index} from :func:`part_index_lookup`.
        min_size (int): objects whose box (before expansion) has a longer side below this are
            skipped.
        size (int): output side.

    Returns:
        tuple: ``(objects, num_skipped)``; objects = [(sid, iid, shape (size,size) uint8 0/1,
        part map (size,size) uint8 0..8)], ordered by (sid, iid).
    """
    sids, iids, pids = decode_uids(uids)
    selected = (iids >= 0) & np.isin(sids, list(part_tables))
    if not selected.any():
        return [], 0
    keys = np.unique(sids[selected].astype(np.int64) * 1000 + iids[selected])
    parts = np.zeros(uids.shape, np.uint8)
    for sid, table in part_tables.items():
        of_class = sids == sid
        if of_class.any():
            parts[of_class] = table[np.clip(pids[of_class], 0, 99)]  # pid -1 (no part) -> table[0] = 0
    objects, skipped = [], 0
    for key in keys.tolist():
        sid, iid = divmod(key, 1000)
        mask = (sids == sid) & (iids == iid)
        if not (parts[mask] > 0).any():
            continue  # an instance without part annotations
        hs, he, ws, we = mask_box(mask)
        if max(he - hs + 1, we - ws + 1) < min_size:
            skipped += 1
            continue
        box = expand_box((hs, he, ws, we), *mask.shape)
        shape = square_crop(mask.astype(np.uint8), box, size)
        part_map = square_crop(np.where(mask, parts, 0).astype(np.uint8), box, size)
        objects.append((sid, iid, shape, part_map))
    return objects, skipped


def label_files(dataset: str, root: str) -> Iterator[Tuple[str, str]]:
    """(split, path) of every label file of a source dataset, sorted."""
    found = False
    for (name, split), pattern in SOURCE_GLOBS.items():
        if name != dataset:
            continue
        for path in sorted(glob.glob(osp.join(root, pattern))):
            found = True
            yield split, path
    if not found:
        raise FileNotFoundError(f'no {dataset} panoptic-parts labels under {root} (expected ' +
                                ', '.join(p for (n, _), p in SOURCE_GLOBS.items() if n == dataset) + ')')


def _stem(dataset: str, path: str) -> str:
    stem = osp.splitext(osp.basename(path))[0]
    return stem.replace('_gtFinePanopticParts', '') if dataset == 'cityscapes' else stem


def build(sources: Dict[str, str],
          out: str,
          part_indices: Optional[dict] = None,
          min_size: int = 16,
          size: int = 64,
          progress: bool = True) -> Dict[str, Counter]:
    """Write the part dataset; returns counters ``written[(category, split)]`` and ``skipped``."""
    written, skipped = Counter(), Counter()
    for dataset, root in sources.items():
        indices = (part_indices or {}).get(dataset, DEFAULT_PART_INDICES[dataset])
        tables = part_index_lookup(dataset, {int(k): v for k, v in indices.items()})
        categories = CATEGORY_OF_SID[dataset]
        files = list(label_files(dataset, root))
        for split, path in tqdm(files, desc=f'{dataset} objects', disable=not progress):
            objects, num_skipped = extract_objects(read_uids(path), tables, min_size, size)
            skipped[dataset] += num_skipped
            for sid, iid, shape, part_map in objects:
                category = categories[sid]
                folder = osp.join(out, str(category), split)
                os.makedirs(folder, exist_ok=True)
                name = f'{dataset}_{_stem(dataset, path)}_{sid}_{iid}'
                Image.fromarray(shape).save(osp.join(folder, name + '_label.png'))
                Image.fromarray(part_map).save(osp.join(folder, name + '_part.png'))
                written[(category, split)] += 1
    return dict(written=written, skipped=skipped)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Build the 64x64 object part dataset for PartNet')
    parser.add_argument('--cityscapes', help='Cityscapes-Panoptic-Parts root (holds gtFinePanopticParts/)')
    parser.add_argument('--pascal', help='PASCAL-Panoptic-Parts root (holds labels/training, labels/validation)')
    parser.add_argument('--out', required=True, help='output root, e.g. data/Full_Parts')
    parser.add_argument('--part-indices', help='JSON {"pascal"|"cityscapes": {sid: {part name: index 1..8}}}')
    parser.add_argument('--min-size', type=int, default=16, help='skip objects whose box side is below this (px)')
    parser.add_argument('--size', type=int, default=64, help='crop side')
    args = parser.parse_args(argv)
    if not (args.cityscapes or args.pascal):
        parser.error('give --cityscapes and/or --pascal')
    return args


def main(argv=None) -> Dict[str, Counter]:
    args = parse_args(argv)
    part_indices = None
    if args.part_indices:
        with open(args.part_indices) as file:
            part_indices = json.load(file)
    sources = {k: v for k, v in (('cityscapes', args.cityscapes), ('pascal', args.pascal)) if v}
    result = build(sources, args.out, part_indices, args.min_size, args.size)
    for (category, split), count in sorted(result['written'].items()):
        print(f'category {category:>2} {split:<5}: {count} objects')
    for dataset, count in result['skipped'].items():
        print(f'{dataset}: skipped {count} objects smaller than {args.min_size} px')
    return result
