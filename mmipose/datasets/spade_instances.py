"""COCO-Stuff in the layout of SPADE, OASIS and the iPOSE authors' code (8-bit per-image instance ids).

Folders ``<split>_img/`` (``*.jpg``), ``<split>_label/`` (raw stuffthingmaps ids, ``*.png``) and
``<split>_inst/`` (``*.png``) with split ``train`` or ``val``. The instance maps are SPADE's
``coco_generate_instance_map.py`` output: a copy of the label map in which every polygon annotation of
the image is overwritten by a running count 0, 1, 2... (annotation order), saved as 8-bit. A pixel's
id therefore carries no class; the authors' rule makes one object of every (label value, instance
id) pair whose label value is a thing class. Optionally ``<split>_dict.npy`` beside the folders (the
authors' ``create_ins_dict.py``) holds, per label file name, rows
``[label value, instance id, hs, he, ws, we, H, W]`` computed on the maps resized to 256 x 256;
when present its (label value, instance id) pairs define the objects.

:func:`encode_spade_instances` rewrites such a map into the ids of the converter route
(``category_id * 256 + k``, ``tools/dataset_converters/coco_instances.py``), so the rest of the
COCO-Stuff pipeline and the object rows are the same for both layouts.
"""
import io
import pickle
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

# COCO thing category ids are 1..90 (raw stuffthingmaps value = category - 1); stuff is 92..182.
COCO_NUM_THING_CATEGORIES = 90
SPADE_DIVISOR = 256  # output ids category * 256 + k, as the converter's maps

_ALLOWED_GLOBALS = {
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
    ('builtins', 'dict'),
    ('builtins', 'list'),
    ('collections', 'OrderedDict'),
}


class _DictUnpickler(pickle.Unpickler):
    """Only numpy arrays / scalars and plain containers: a ``*_dict.npy`` runs no code when read."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f'refusing {module}.{name}: a <split>_dict.npy holds only '
                                         'numbers, lists and a dict')
        return super().find_class(module, name)


def read_spade_dict(path: str) -> Dict[str, List[Tuple[int, int]]]:
    """Read the authors' ``<split>_dict.npy``: label file name -> [(label value, instance id), ...].

    The file is ``np.save`` of a dict (a pickled 0-d object array); it is unpickled with an
    allow-list of numpy types, never with ``np.load(allow_pickle=True)``.

    Args:
        path (str): The ``.npy`` file.

    Returns:
        dict: Every key of the file (e.g. ``'000000000139.png'``) -> its (label value, instance id)
        pairs, in file order (the boxes and sizes of the rows are not used: boxes are computed at
        the working resolution).
    """
    with open(path, 'rb') as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            np.lib.format.read_array_header_1_0(f)
        else:
            np.lib.format.read_array_header_2_0(f)
        try:
            data = _DictUnpickler(io.BytesIO(f.read())).load()
        except Exception as error:
            raise ValueError(f'{path}: cannot read it as the authors\' <split>_dict.npy ({error})') from error
    if isinstance(data, np.ndarray) and data.dtype == object and data.ndim == 0:
        data = data.item()
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a dict (label file name -> rows), got {type(data).__name__}')
    pairs = {}
    for key, rows in data.items():
        table = []
        for row in rows:
            row = [int(v) for v in row]
            if len(row) != 8:
                raise ValueError(f'{path}: row {row} of {key!r} is not [label, instance, hs, he, ws, we, H, W]')
            table.append((row[0], row[1]))
        pairs[str(key)] = table
    return pairs


def spade_thing_pairs(label: np.ndarray,
                      inst: np.ndarray,
                      num_thing_categories: int = COCO_NUM_THING_CATEGORIES) -> List[Tuple[int, int]]:
    """(label value, instance id) pairs of the thing pixels, the authors' rule without a dict.

    Args:
        label (np.ndarray): (H, W) raw stuffthingmaps values (category - 1, 255 = unlabeled).
        inst (np.ndarray): (H, W) SPADE instance ids.
        num_thing_categories (int): Thing categories are 1..this.

    Returns:
        list[tuple]: sorted unique pairs.
    """
    thing = label.astype(np.int64) < num_thing_categories
    pairs = np.unique(np.stack([label[thing], inst[thing]]).astype(np.int64), axis=1)
    return [(int(a), int(b)) for a, b in pairs.T]


def encode_spade_instances(label: np.ndarray,
                           inst: np.ndarray,
                           pairs: Optional[Iterable[Sequence[int]]] = None,
                           num_thing_categories: int = COCO_NUM_THING_CATEGORIES) -> np.ndarray:
    """SPADE ids -> ``category * 256 + k`` ids (0 = no object), the converter route's format.

    Every (label value ``c``, instance id ``v``) pair with ``c`` a thing is one object: its pixels are
    those with ``label == c`` and ``inst == v``; its category is ``c + 1`` and ``k`` (1, 2...) the rank
    of ``v`` among the pair ids of that category. SPADE counts instances in annotation order, so the
    rank is the converter's k (annotation-id order) for the same instances.

    Args:
        label (np.ndarray): (H, W) raw stuffthingmaps values.
        inst (np.ndarray): (H, W) SPADE instance ids (8-bit).
        pairs (Iterable, optional): The objects' (label value, instance id) pairs, e.g. from the
            authors' dict; None = all thing pairs of the maps (:func:`spade_thing_pairs`). Pairs
            absent from the maps are ignored.
        num_thing_categories (int): Thing categories are 1..this.

    Returns:
        np.ndarray: (H, W) uint16.
    """
    label = np.asarray(label).astype(np.int64)
    inst = np.asarray(inst).astype(np.int64)
    if label.shape != inst.shape:
        raise ValueError(f'encode_spade_instances: label {label.shape} and instance map {inst.shape} differ in size')
    if pairs is None:
        pairs = spade_thing_pairs(label, inst, num_thing_categories)
    by_category: Dict[int, List[int]] = {}
    for c, v in sorted({(int(c), int(v)) for c, v in pairs}):
        if 0 <= c < num_thing_categories:
            by_category.setdefault(c, []).append(v)
    out = np.zeros(label.shape, np.uint16)
    for c, ids in by_category.items():
        if len(ids) >= SPADE_DIVISOR:
            raise ValueError(f'encode_spade_instances: {len(ids)} instances of category {c + 1}; at most '
                             f'{SPADE_DIVISOR - 1} fit the category * 256 + k ids')
        in_class = label == c
        for k, v in enumerate(ids, start=1):
            out[in_class & (inst == v)] = (c + 1) * SPADE_DIVISOR + k
    return out
