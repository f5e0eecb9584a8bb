"""Object tables of the data contract: one row per object, computed at working resolution."""
from typing import Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from torch import Tensor

ArrayLike = Union[np.ndarray, Tensor]
OBJECT_ROW_WIDTH = 8  # [instance_value, part_category, hs, he, ws, we, H0, W0]
#: instance-map values of objects are ``label * INSTANCE_OFFSET + k`` (k >= 1), the Cityscapes convention
#: every mmipose dataset follows; stuff pixels (and crowds) hold the bare label id
INSTANCE_OFFSET = 1000


def _as_numpy(array: ArrayLike, name: str) -> np.ndarray:
    array = array.detach().cpu().numpy() if isinstance(array, Tensor) else np.asarray(array)
    array = np.squeeze(array)
    if array.ndim != 2:
        raise ValueError(f'compute_object_boxes: {name} must be a (H, W) map, got shape {array.shape}')
    return array.astype(np.int64)


def make_even_extent(start: int, end: int, limit: int) -> Tuple[int, int]:
    """The reference's rule: grow an odd ``end - start`` by one, at the end if it fits, else at the start."""
    if (end - start) % 2 == 1 and end + 1 <= limit:
        end += 1
    if (end - start) % 2 == 1 and start - 1 >= 0:
        start -= 1
    return start, end


def compute_object_boxes(inst: ArrayLike,
                         class_map: ArrayLike,
                         class_to_category: Mapping[int, int],
                         original_size: Tuple[int, int] = (1, 1),
                         min_extent: int = 2,
                         background_value: Optional[int] = 0,
                         min_instance_value: int = 0) -> np.ndarray:
    """Object rows ``[instance_value, part_category, hs, he, ws, we, H0, W0]`` of a scene.

    An object is a value ``v`` of ``inst`` whose pixels' class (``class_map``, e.g. the label
    map, Cityscapes ``id // 1000`` or ADE20K's instance-class channel) is a key of
    ``class_to_category``. Its box is the min/max row and column of its pixels (``he``/``we``
    the inclusive max), with odd extents made even by :func:`make_even_extent`; objects whose
    extent is below ``min_extent`` are skipped (as the reference, which drops 1-pixel objects).
    Rows are ordered by the position of the class in ``class_to_category`` (the reference's
    category order), then by instance value. Compute it on the maps **at working resolution**
    (after resizing and flipping), so boxes are always consistent with the maps.

    Args:
        inst (array): (H,W) instance map.
        class_map (array): (H,W) class of every pixel, looked up in ``class_to_category``.
        class_to_category (Mapping[int, int]): class id -> part category id (config data).
        original_size (tuple): (H0, W0) stored in every row (aspect restoration); (1, 1) = none.
        min_extent (int): Minimum box height and width (after the even rule).
        background_value (int, optional): Instance value that is never an object.
        min_instance_value (int): Smaller instance values are never objects (Cityscapes: 1000;
            its crowd regions carry the bare label id).

    Returns:
        np.ndarray: (K, 8) int64.
    """
    inst = _as_numpy(inst, 'inst')
    class_map = _as_numpy(class_map, 'class_map')
    if inst.shape != class_map.shape:
        raise ValueError(f'compute_object_boxes: inst {inst.shape} and class_map {class_map.shape} '
                         'must have the same size')
    height, width = inst.shape
    order = {int(c): i for i, c in enumerate(class_to_category)}
    values, flat_index = np.unique(inst.ravel(), return_inverse=True)
    rows = np.arange(inst.size) // width
    cols = np.arange(inst.size) % width
    n = len(values)
    hs = np.full(n, height, np.int64)
    he = np.full(n, -1, np.int64)
    ws = np.full(n, width, np.int64)
    we = np.full(n, -1, np.int64)
    np.minimum.at(hs, flat_index, rows)
    np.maximum.at(he, flat_index, rows)
    np.minimum.at(ws, flat_index, cols)
    np.maximum.at(we, flat_index, cols)
    cls = np.zeros(n, np.int64)
    np.maximum.at(cls, flat_index, class_map.ravel())
    table = []
    for i, value in enumerate(values.tolist()):
        if (background_value is not None and value == background_value) or value < min_instance_value:
            continue
        if int(cls[i]) not in order:
            continue
        y0, y1 = make_even_extent(int(hs[i]), int(he[i]), height)
        x0, x1 = make_even_extent(int(ws[i]), int(we[i]), width)
        if y1 - y0 < min_extent or x1 - x0 < min_extent:
            continue
        table.append(
            (order[int(cls[i])], value, [value,
                                         int(class_to_category[int(cls[i])]), y0, y1, x0, x1, *original_size]))
    table.sort(key=lambda t: (t[0], t[1]))
    return np.asarray([t[2] for t in table], np.int64).reshape(-1, OBJECT_ROW_WIDTH)


def instances_from_components(label: ArrayLike, object_classes: Sequence[int], connectivity: int = 8) -> np.ndarray:
    """An instance map from a label map alone: connected components of every object class.

    Args:
        label (array): (H,W) label map.
        object_classes (Sequence[int]): Classes whose components are objects.
        connectivity (int): 4 or 8.

    Returns:
        np.ndarray: (H,W) int64, 0 = no object, ``class * 1000 + k`` (k = 1, 2...) for the k-th
        component of ``class`` (Cityscapes-style ids).
    """
    from scipy import ndimage
    label = _as_numpy(label, 'label')
    structure = np.ones((3, 3)) if connectivity == 8 else None
    inst = np.zeros_like(label)
    for cls in object_classes:
        components, count = ndimage.label(label == cls, structure=structure)
        if count >= INSTANCE_OFFSET:
            raise ValueError(f'instances_from_components: {count} components of class {cls} '
                             '(at most 999 per class); pass an instance map instead')
        inst = np.where(components > 0, int(cls) * INSTANCE_OFFSET + components, inst)
    return inst
