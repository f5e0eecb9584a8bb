"""Write the COCO instance maps that ``IPOSECocoStuffDataset`` reads, from ``instances_<split>.json``.

Format: one 16-bit grayscale PNG per image, named like the image (``.png``)::

    <out_dir>/<split>/<image stem>.png    uint16, 0 = no object,
                                          category_id * 256 + k  (k = 1..255: the k-th instance
                                          of that category in the image, annotation-id order)

So ``value // 256`` is the COCO category id (the dataset config's
``InstanceClassFromId(divisor=256)``) and ``value % 256`` the instance number. Every id is >= 257,
so instance ids never collide with COCO-Stuff label values (0..182), unlike the reference's maps
(SPADE's script copies the label map and overwrites it with a running counter); ``category * 1000``
would not fit 16 bits (category ids go up to 90).

Overlaps: instances are drawn largest first, so a small object lying on a larger one stays
visible. Crowd regions (``iscrowd=1``: many objects in one mask) are not objects and are skipped
unless ``--include-crowd``.

Example::

    python tools/dataset_converters/coco_instances.py data/coco --splits train2017 val2017 --nproc 8
"""
import argparse
import json
import os
import os.path as osp
from multiprocessing import Pool
from typing import List, Optional, Sequence

import numpy as np
from PIL import Image

INSTANCE_DIVISOR = 256  # keep equal to mmipose.datasets.coco_stuff.COCO_INSTANCE_DIVISOR
ANNOTATION_SOURCE = ('annotations_trainval2017.zip from https://cocodataset.org/#download '
                     '(unpacked into <coco_root>/annotations/)')


def instance_ids(annotations: Sequence[dict], file_name: str = '') -> List[int]:
    """Map value of each annotation: ``category_id * 256 + k`` with k counted per category.

    Args:
        annotations (Sequence[dict]): COCO annotations of one image, in annotation-id order.
        file_name (str): Image name for the error message.

    Raises:
        ValueError: more than 255 instances of one category in the image.
    """
    counts = {}
    ids = []
    for ann in annotations:
        category = int(ann['category_id'])
        counts[category] = counts.get(category, 0) + 1
        if counts[category] >= INSTANCE_DIVISOR:
            raise ValueError(f'{file_name}: more than {INSTANCE_DIVISOR - 1} instances of COCO '
                             f'category {category}; the 16-bit id format cannot hold them')
        ids.append(category * INSTANCE_DIVISOR + counts[category])
    return ids


def instance_map(coco, image_id: int, include_crowd: bool = False) -> np.ndarray:
    """The (H, W) uint16 instance map of one image.

    Args:
        coco (pycocotools.coco.COCO): The loaded annotation file.
        image_id (int): COCO image id.
        include_crowd (bool): Also draw ``iscrowd=1`` regions.

    Returns:
        np.ndarray: (H, W) uint16, 0 = no object, else ``category_id * 256 + k``.
    """
    info = coco.imgs[image_id]
    anns = [a for a in coco.imgToAnns.get(image_id, []) if include_crowd or not a.get('iscrowd', 0)]
    anns.sort(key=lambda a: a['id'])
    ids = instance_ids(anns, info['file_name'])
    canvas = np.zeros((info['height'], info['width']), np.uint16)
    for index in sorted(range(len(anns)), key=lambda i: -anns[i]['area']):  # largest first
        canvas[coco.annToMask(anns[index]) > 0] = ids[index]
    return canvas


_COCO = None  # the annotation file of the split being converted (shared with pool workers)


def _write_one(job) -> None:
    image_id, target, include_crowd = job
    stem = osp.splitext(_COCO.imgs[image_id]['file_name'])[0]
    Image.fromarray(instance_map(_COCO, image_id, include_crowd)).save(osp.join(target, stem + '.png'))


def convert_split(coco_root: str, split: str, out_dir: str, include_crowd: bool = False, nproc: int = 1) -> int:
    """Write ``<out_dir>/<split>/*.png`` from ``<coco_root>/annotations/instances_<split>.json``.

    Returns:
        int: Number of images written.

    Raises:
        FileNotFoundError: the annotation file is missing (the message says where to get it).
    """
    global _COCO
    from pycocotools.coco import COCO
    ann_file = osp.join(coco_root, 'annotations', f'instances_{split}.json')
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'COCO instance annotations {ann_file} not found: get '
                                f'{ANNOTATION_SOURCE}')
    _COCO = COCO(ann_file)
    target = osp.join(out_dir, split)
    os.makedirs(target, exist_ok=True)
    jobs = [(image_id, target, include_crowd) for image_id in sorted(_COCO.imgs)]
    if nproc > 1:
        with Pool(nproc) as pool:  # fork: workers share the loaded annotations
            for _ in pool.imap_unordered(_write_one, jobs, chunksize=64):
                pass
    else:
        for job in jobs:
            _write_one(job)
    return len(jobs)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='COCO instances_<split>.json -> 16-bit instance '
                                     'maps (category_id * 256 + k) for IPOSECocoStuffDataset')
    parser.add_argument('coco_root', help='COCO root with annotations/instances_<split>.json')
    parser.add_argument('--splits', nargs='+', default=['train2017', 'val2017'])
    parser.add_argument(
        '--out-dir',
        default=None,
        help='output root (default: <coco_root>/instance_maps, the dataset '
        "config's inst_dir)")
    parser.add_argument(
        '--include-crowd', action='store_true', help='also draw iscrowd=1 regions (they are not single objects)')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    out_dir = args.out_dir or osp.join(args.coco_root, 'instance_maps')
    summary = dict(
        out_dir=out_dir,
        images={
            split: convert_split(args.coco_root, split, out_dir, args.include_crowd, args.nproc)
            for split in args.splits
        })
    print(json.dumps(summary))
    return summary
