"""Read Cityscapes-Panoptic-Parts (CPP) and PASCAL-Panoptic-Parts (PPP) labels into object part maps.

On-disk format (the ``panoptic_parts`` package, ``utils/format.py``; checked in its source): one
int32 TIFF per image (Pillow mode ``I``) of *uids*, decimal-encoded per pixel as

* ``sid``                  (1-2 digits): semantic class only;
* ``sid * 1000 + iid``     (4-5 digits): semantic class and instance;
* ``sid * 100000 + iid * 100 + pid`` (6-7 digits): class, instance and part (``pid = 0`` = no part).

Files: CPP ``gtFinePanopticParts/{train,val}/<city>/*_gtFinePanopticParts.tif`` (sids = Cityscapes
label ids: 24 person, 25 rider, 26 car, 27 truck, 28 bus); PPP ``labels/{training,validation}/*.tif``
(sids 1..20 = PASCAL VOC order). PPP part ids carry a part-*instance* layer (e.g. car wheels 20..29);
``countable_pids_groupings`` of the package's ``ppp_datasetspec.yaml`` folds them to one pid per part
class. This module re-implements the decoding in numpy because ``import panoptic_parts`` (2.0rc6)
fails on Python >= 3.10 (its version check parses ``'3.11'[:3]`` as 3.1); the spec YAML files are
read from the installed package without importing it.
"""
import importlib.util
import os.path as osp
from functools import lru_cache
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

#: Spec file names inside ``panoptic_parts/specs/dataset_specs``.
DATASET_SPEC_FILES = {'cityscapes': 'cpp_datasetspec.yaml', 'pascal': 'ppp_datasetspec.yaml'}


def decode_uids(uids: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split panoptic-parts uids into semantic, instance and part ids (vectorised).

    Same semantics as ``panoptic_parts.utils.format.decode_uids``: ``iids`` are -1 where the pixel
    has no instance, ``pids`` -1 where the uid has no part digits (a 6-7 digit uid with part digits
    ``00`` keeps ``pid = 0``; both mean "no part").

    Args:
        uids (np.ndarray): integer uids, any shape.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: ``sids, iids, pids`` (int32, same shape).
    """
    uids = np.asarray(uids).astype(np.int64)
    if uids.size and (uids.min() < 0 or uids.max() > 9_999_999):
        raise ValueError(f'panoptic-parts uids must be in 0..9999999, got range [{uids.min()}, {uids.max()}]')
    bad = (uids >= 100) & (uids <= 999)
    if bad.any():
        raise ValueError(f'panoptic-parts uids with 3 digits are invalid, got {np.unique(uids[bad])[:5].tolist()}')
    has_part = uids > 99_999
    has_inst = uids > 99
    sids = np.where(has_part, uids // 100_000, np.where(has_inst, uids // 1000, uids))
    iids = np.where(has_part, (uids // 100) % 1000, np.where(has_inst, uids % 1000, -1))
    pids = np.where(has_part, uids % 100, -1)
    return sids.astype(np.int32), iids.astype(np.int32), pids.astype(np.int32)


def read_uids(path: str) -> np.ndarray:
    """Read a panoptic-parts label file (TIFF or PNG) as an int32 (H, W) uid map."""
    with Image.open(path) as image:
        array = np.array(image)
    if array.ndim != 2:
        raise ValueError(f'{path}: panoptic-parts labels are single-channel integer images, got shape {array.shape}')
    if array.dtype.kind not in 'iu':
        raise ValueError(f'{path}: expected integer uids, got dtype {array.dtype}')
    return array.astype(np.int32)


def _spec_path(dataset: str) -> str:
    if dataset not in DATASET_SPEC_FILES:
        raise KeyError(f'unknown panoptic-parts dataset {dataset!r}, use one of {sorted(DATASET_SPEC_FILES)}')
    spec = importlib.util.find_spec('panoptic_parts')  # locates the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('the `panoptic_parts` package is needed for its dataset spec files '
                          '(pip install panoptic_parts)')
    path = osp.join(list(spec.submodule_search_locations)[0], 'specs', 'dataset_specs', DATASET_SPEC_FILES[dataset])
    if not osp.isfile(path):
        raise FileNotFoundError(f'panoptic_parts dataset spec {path} not found')
    return path


@lru_cache(maxsize=None)
def load_spec(dataset: str) -> Tuple[Dict[int, List[str]], Dict[int, Dict[int, int]]]:
    """Part classes and pid folding of a dataset from the package's spec YAML.

    Args:
        dataset (str): ``'cityscapes'`` or ``'pascal'``.

    Returns:
        tuple: ``part_names`` {sid: [part name of pid 1, pid 2, ...]} for classes with parts, and
        ``pid_folding`` {sid: {pid in file: official pid}} (PPP's part-instance layer; empty for CPP).
    """
    from ruamel.yaml import YAML
    with open(_spec_path(dataset)) as file:
        spec = YAML(typ='safe').load(file)
    classes = list(spec['scene_class2part_classes'].items())  # sid = position + 1 (0 = UNLABELED)
    part_names = {sid: list(parts) for sid, (_, parts) in enumerate(classes, start=1) if parts}
    sid_of = {name: sid for sid, (name, _) in enumerate(classes, start=1)}
    folding: Dict[int, Dict[int, int]] = {}
    for scene_class, groups in (spec.get('countable_pids_groupings') or {}).items():
        sid = sid_of[scene_class]
        for part_class, file_pids in groups.items():
            official = part_names[sid].index(part_class) + 1
            folding.setdefault(sid, {}).update({int(p): official for p in file_pids})
    return part_names, folding


def part_index_lookup(dataset: str, part_indices: Dict[int, Dict[str, int]]) -> Dict[int, np.ndarray]:
    """Per-class lookup tables pid-in-file -> part index 0..8.

    Args:
        dataset (str): ``'cityscapes'`` or ``'pascal'``.
        part_indices (dict): {sid: {part name: part index 1..8}} (see ``part_index_tables``).
            Parts not listed map to 0 (background).

    Returns:
        dict[int, np.ndarray]: {sid: (100,) int64 array, ``table[pid]`` = part index}.
    """
    part_names, folding = load_spec(dataset)
    tables = {}
    for sid, names in part_indices.items():
        sid = int(sid)
        if sid not in part_names:
            raise KeyError(f'{dataset}: semantic id {sid} has no parts in the panoptic_parts spec')
        unknown = set(names) - set(part_names[sid])
        if unknown:
            raise KeyError(f'{dataset}: class {sid} has no parts named {sorted(unknown)}; '
                           f'its parts are {part_names[sid]}')
        official = np.zeros(100, np.int64)
        for name, index in names.items():
            if not 0 <= int(index) <= 8:
                raise ValueError(f'{dataset}: part index of {sid}/{name} must be in 0..8, got {index}')
            official[part_names[sid].index(name) + 1] = int(index)
        table = official.copy()
        for file_pid, official_pid in folding.get(sid, {}).items():
            table[file_pid] = official[official_pid]
        tables[sid] = table
    return tables
