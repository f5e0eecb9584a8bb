"""Write (and cache) the toy data: scenes, the matching part dataset and the supports.

Layout under ``data_root``::

    manifest.json                                   parameters + counts; the cache key
    scenes/<split>/images/<name>.png                RGB image
    scenes/<split>/labels/<name>.png                uint8 label ids (see spec.py)
    scenes/<split>/instances/<name>.png             uint16 instance ids (label*1000+k, stuff = label)
    scenes/<split>/parts/<name>.png                 uint8 ground-truth part ids
    part_dataset/<category>/<split>/<obj>_label.png 64x64 binary object shape (0/1)
    part_dataset/<category>/<split>/<obj>_part.png  64x64 part ids 0..8
    supports/<category>/<nn>_<obj>_part.png         k support part maps per category (first k sorted)

``split`` is ``train`` or ``val``; ``<name>`` is ``<split>_<index:05d>``. The part dataset and the
supports follow the layouts of ``PartNetDataset`` and ``SupportBank``.
"""
import json
import os
import os.path as osp
import shutil
import time
from typing import Dict, List, Optional

import cv2
import numpy as np

from .crops import mask_box, object_crop
from .scene import draw_scene
from .spec import TOY_PART_NAMES

#: bump when drawing changes so stale caches are regenerated
TOY_DATA_VERSION = 1
SPLITS = ('train', 'val')
MANIFEST = 'manifest.json'


def _params(seed: int, num_train: int, num_val: int, height: int, width: int, num_supports: int, crop_size: int,
            min_object_pixels: int, min_visible_fraction: float) -> dict:
    return dict(
        version=TOY_DATA_VERSION,
        seed=int(seed),
        num_train=int(num_train),
        num_val=int(num_val),
        height=int(height),
        width=int(width),
        num_supports=int(num_supports),
        crop_size=int(crop_size),
        min_object_pixels=int(min_object_pixels),
        min_visible_fraction=float(min_visible_fraction))


def read_manifest(data_root: str) -> Optional[dict]:
    """The manifest of a toy data folder, or None when there is none."""
    path = osp.join(data_root, MANIFEST)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _write_png(path: str, array: np.ndarray) -> None:
    if not cv2.imwrite(path, array, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
        raise OSError(f'could not write {path}')


def _pick_supports(candidates: List[dict], k: int) -> List[dict]:
    """k fully visible, all-parts-present objects spread over the aspect-ratio range (deterministic)."""
    if not candidates:
        return []
    ordered = sorted(candidates, key=lambda c: (c['aspect'], c['name']))
    picks = np.unique(np.round(np.linspace(0, len(ordered) - 1, min(k, len(ordered)))).astype(int))
    return [ordered[i] for i in picks]


def _generate(root: str, params: dict) -> dict:
    crop = params['crop_size']
    counts: Dict[str, Dict[str, int]] = {}
    support_pool: Dict[int, List[dict]] = {c: [] for c in TOY_PART_NAMES}
    for split_index, split in enumerate(SPLITS):
        folders = {k: osp.join(root, 'scenes', split, k) for k in ('images', 'labels', 'instances', 'parts')}
        for folder in folders.values():
            os.makedirs(folder, exist_ok=True)
        split_counts = {str(c): 0 for c in TOY_PART_NAMES}
        for index in range(params[f'num_{split}']):
            name = f'{split}_{index:05d}'
            scene = draw_scene(
                np.random.default_rng([params['seed'], split_index, index]), params['height'], params['width'])
            _write_png(osp.join(folders['images'], name + '.png'), scene.image[..., ::-1])
            _write_png(osp.join(folders['labels'], name + '.png'), scene.label)
            _write_png(osp.join(folders['instances'], name + '.png'), scene.inst)
            _write_png(osp.join(folders['parts'], name + '.png'), scene.parts)
            for obj in scene.objects:
                if (obj.visible_pixels < params['min_object_pixels']
                        or obj.visible_pixels < params['min_visible_fraction'] * obj.drawn_pixels):
                    continue
                hs, he, ws, we = mask_box(scene.inst == obj.instance_value)
                if he - hs < 3 or we - ws < 3:
                    continue
                shape, part_map = object_crop(scene.inst, scene.parts, obj.instance_value, crop)
                obj_name = f'{name}_{obj.instance_value}'
                folder = osp.join(root, 'part_dataset', str(obj.part_category), split)
                os.makedirs(folder, exist_ok=True)
                _write_png(osp.join(folder, obj_name + '_label.png'), shape)
                _write_png(osp.join(folder, obj_name + '_part.png'), part_map)
                split_counts[str(obj.part_category)] += 1
                all_parts = len(np.unique(part_map)) - 1 == len(TOY_PART_NAMES[obj.part_category])
                if split == 'train' and obj.fully_visible and all_parts:
                    support_pool[obj.part_category].append(
                        dict(name=obj_name, part_map=part_map, aspect=(we - ws + 1) / (he - hs + 1)))
        counts[split] = split_counts
    supports = {}
    for category, pool in support_pool.items():
        chosen = _pick_supports(pool, params['num_supports'])
        if len(chosen) < params['num_supports']:
            raise RuntimeError(f'toy data: only {len(chosen)} clean support candidates for part category '
                               f'{category}; generate more training scenes (num_train={params["num_train"]}).')
        folder = osp.join(root, 'supports', str(category))
        os.makedirs(folder, exist_ok=True)
        for i, cand in enumerate(chosen):
            _write_png(osp.join(folder, f'{i:02d}_{cand["name"]}_part.png'), cand['part_map'])
        supports[str(category)] = [c['name'] for c in chosen]
    return dict(params=params, objects=counts, supports=supports)


def prepare_toy_data(data_root: str,
                     seed: int = 0,
                     num_train: int = 400,
                     num_val: int = 64,
                     height: int = 64,
                     width: int = 128,
                     num_supports: int = 3,
                     crop_size: int = 64,
                     min_object_pixels: int = 40,
                     min_visible_fraction: float = 0.5,
                     force: bool = False) -> dict:
    """Generate the toy data under ``data_root`` unless an identical copy is already there.

    Args:
        data_root (str): output folder (created). An existing folder without a toy manifest that
            is not empty is refused, so a wrong path never gets overwritten.
        seed (int): master seed; scene i of a split uses ``default_rng([seed, split, i])``.
        num_train (int): number of training scenes.
        num_val (int): number of validation scenes.
        height (int): image height.
        width (int): image width.
        num_supports (int): supports written per part category (k-shot).
        crop_size (int): side of the part-dataset crops (PartNet works at 64).
        min_object_pixels (int): objects with fewer visible pixels are left out of the part dataset.
        min_visible_fraction (float): so are objects occluded or cut by the border beyond this
            fraction of their drawn area (fragments carry little part structure).
        force (bool): regenerate even when the cache matches.

    Returns:
        dict: the manifest (``params``, per-split object counts per category, chosen supports,
        ``seconds`` spent generating, ``cached``).
    """
    params = _params(seed, num_train, num_val, height, width, num_supports, crop_size, min_object_pixels,
                     min_visible_fraction)
    existing = read_manifest(data_root)
    if existing is not None and existing.get('params') == params and not force:
        existing['cached'] = True
        return existing
    if existing is None and osp.isdir(data_root) and os.listdir(data_root):
        raise FileExistsError(f'prepare_toy_data: {data_root} is not empty and has no {MANIFEST}; '
                              'refusing to write toy data into it. Choose an empty or new data_root.')
    start = time.time()
    tmp = f'{data_root.rstrip(os.sep)}.tmp-{os.getpid()}'
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    manifest = _generate(tmp, params)
    manifest['seconds'] = round(time.time() - start, 2)
    with open(osp.join(tmp, MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=1)
    if osp.isdir(data_root):
        shutil.rmtree(data_root)  # a stale toy cache (it has our manifest)
    os.makedirs(osp.dirname(osp.abspath(data_root)), exist_ok=True)
    os.replace(tmp, data_root)
    manifest['cached'] = False
    return manifest
