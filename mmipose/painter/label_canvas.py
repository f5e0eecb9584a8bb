"""Label maps painted in a browser or uploaded: palette snapping, instance assignment, upload parsing.

Everything here is numpy on (H, W) maps and independent of gradio, so the painter's bad-input
rules are unit-tested without a browser:

* colours are snapped to the nearest palette colour (anti-aliased edges, lossy formats), and the
  number of pixels whose colour was not exactly a palette colour is reported;
* maps of another size are resized nearest to the canvas size (and the caller is told so);
* class ids the model does not know are an error naming them;
* instances: object pixels get Cityscapes-style values ``class * 1000 + k``; pixels of one
  object class that share an instance value are one object, whatever numbering the source used.
"""
import base64
import binascii
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

INSTANCE_OFFSET = 1000  # object value = class id * 1000 + k (k = 1, 2, ...)


@dataclass
class ParsedMap:
    """A map read from the canvas or an upload.

    Attributes:
        array (np.ndarray): (H, W) int64 ids at the canvas size.
        messages (list[str]): what was changed on the way (snapping, resizing), for the page.
    """
    array: np.ndarray
    messages: List[str] = field(default_factory=list)


def snap_to_palette(rgb: np.ndarray, palette: np.ndarray, transparent_id: Optional[int] = 0) -> Tuple[np.ndarray, int]:
    """Class ids of a colour image: every pixel takes the class of the nearest palette colour.

    Args:
        rgb (np.ndarray): (H, W, 3) RGB or (H, W, 4) RGBA uint8 image.
        palette (np.ndarray): (N, 3) RGB colours, row i = colour of class i.
        transparent_id (int, optional): class of fully transparent pixels (RGBA, alpha 0); None
            snaps them by colour like the others.

    Returns:
        tuple: (H, W) int64 class ids and the number of pixels whose colour was not exactly a
        palette colour (0 for a clean, lossless map).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f'snap_to_palette: expected an (H, W, 3) or (H, W, 4) image, got shape {rgb.shape}.')
    palette = np.asarray(palette, np.int64).reshape(-1, 3)
    colours = rgb[..., :3].reshape(-1, 3).astype(np.int64)
    # unique colours first: a painted map has few colours, so the distance table stays small
    unique, inverse = np.unique(colours, axis=0, return_inverse=True)
    distances = ((unique[:, None, :] - palette[None, :, :])**2).sum(-1)
    nearest = distances.argmin(1)
    exact = distances[np.arange(len(unique)), nearest] == 0
    ids = nearest[inverse.reshape(-1)].reshape(rgb.shape[:2])
    changed = ~exact[inverse.reshape(-1)].reshape(rgb.shape[:2])
    if rgb.shape[2] == 4 and transparent_id is not None:
        clear = rgb[..., 3] == 0
        ids[clear] = transparent_id
        changed &= ~clear
    return ids.astype(np.int64), int(changed.sum())


def resize_nearest(array: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """(H, W) integer map -> (size[0], size[1]) by nearest neighbour (ids never blend)."""
    height, width = size
    if array.shape[:2] == (height, width):
        return array
    index_rows = np.minimum((np.arange(height) + 0.5) * array.shape[0] / height, array.shape[0] - 1).astype(int)
    index_cols = np.minimum((np.arange(width) + 0.5) * array.shape[1] / width, array.shape[1] - 1).astype(int)
    return array[index_rows][:, index_cols]


def check_class_ids(label: np.ndarray, num_classes: int, source: str) -> None:
    """Raise ValueError naming the ids of ``label`` outside ``0..num_classes-1``."""
    unknown = np.unique(label[(label < 0) | (label >= num_classes)])
    if unknown.size:
        raise ValueError(f'{source}: class ids {unknown[:10].tolist()} are unknown to the model '
                         f'(it knows 0..{num_classes - 1}); {int(np.isin(label, unknown).sum())} pixels.')


def decode_image(data: Union[bytes, str, np.ndarray], name: str) -> np.ndarray:
    """An image as stored: bytes, a ``data:image/png;base64,...`` URL, a file path or an array.

    Returns:
        np.ndarray: (H, W) (grey, 8 or 16 bit) or (H, W, 3|4) RGB(A), dtype as stored.
    """
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, str) and data.startswith('data:'):
        try:
            data = base64.b64decode(data.split(',', 1)[1])
        except (IndexError, binascii.Error) as error:
            raise ValueError(f'{name}: not a base64 data URL ({error}).') from None
    if isinstance(data, str):
        array = cv2.imread(data, cv2.IMREAD_UNCHANGED)
        if array is None:
            raise ValueError(f'{name}: cannot read {data} as an image (expected a PNG).')
    else:
        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if array is None:
            raise ValueError(f'{name}: the data is not a readable image (expected a PNG).')
    if array.ndim == 3:  # OpenCV reads BGR(A)
        array = cv2.cvtColor(array, cv2.COLOR_BGRA2RGBA if array.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    return array


def parse_label_image(image: np.ndarray,
                      palette: np.ndarray,
                      num_classes: int,
                      size: Tuple[int, int],
                      source: str = 'label map') -> ParsedMap:
    """A label map from an image: ids (8/16-bit grey, or RGB with equal channels) or palette colours.

    Args:
        image (np.ndarray): (H, W) ids or (H, W, 3|4) colours, as :func:`decode_image` returns.
        palette (np.ndarray): (N, 3) RGB class colours.
        num_classes (int): classes the model knows.
        size (tuple): canvas (height, width).
        source (str): name of the input in messages.

    Returns:
        ParsedMap: (H, W) int64 class ids at ``size`` and the messages.

    Raises:
        ValueError: ids outside ``0..num_classes-1`` (naming them) or an unreadable shape.
    """
    messages = []
    image = np.asarray(image)
    grey = image.ndim == 2 or (image.ndim == 3 and image.shape[2] >= 3 and (image[..., 0] == image[..., 1]).all() and
                               (image[..., 1] == image[..., 2]).all() and int(image[..., 0].max()) < num_classes
                               and not (image.shape[2] == 4 and (image[..., 3] == 0).any()))
    if grey:
        label = (image if image.ndim == 2 else image[..., 0]).astype(np.int64)
        check_class_ids(label, num_classes, source)
    elif image.ndim == 3 and image.shape[2] in (3, 4):
        if image.dtype != np.uint8:
            image = (image.astype(np.float64) / 257.0).round().astype(np.uint8)  # 16-bit colour PNG
        label, changed = snap_to_palette(image, palette)
        if changed:
            messages.append(f'{source}: {changed} pixels had colours in no palette entry and were snapped to the '
                            'nearest class colour.')
    else:
        raise ValueError(f'{source}: expected an (H, W) id map or an RGB(A) colour image, got shape {image.shape}.')
    if label.shape != tuple(size):
        messages.append(f'{source}: {label.shape[0]}x{label.shape[1]} resized (nearest) to the canvas '
                        f'{size[0]}x{size[1]}.')
        label = resize_nearest(label, size)
    return ParsedMap(label, messages)


def parse_instance_image(image: np.ndarray, size: Tuple[int, int], source: str = 'instance map') -> ParsedMap:
    """An instance map from an image: 8/16-bit grey values, or RGB read as ``R * 256 + G`` (the canvas's
    encoding of 16-bit values).

    Returns:
        ParsedMap: (H, W) int64 instance values at ``size`` (any numbering; see :func:`assign_instances`).
    """
    image = np.asarray(image)
    messages = []
    if image.ndim == 2:
        inst = image.astype(np.int64)
    elif image.ndim == 3 and image.shape[2] in (3, 4):
        inst = image[..., 0].astype(np.int64) * 256 + image[..., 1].astype(np.int64)
    else:
        raise ValueError(f'{source}: expected an (H, W) map of instance values, got shape {image.shape}.')
    if inst.shape != tuple(size):
        messages.append(f'{source}: {inst.shape[0]}x{inst.shape[1]} resized (nearest) to the canvas '
                        f'{size[0]}x{size[1]}.')
        inst = resize_nearest(inst, size)
    return ParsedMap(inst, messages)


def assign_instances(label: np.ndarray, inst: Optional[np.ndarray], object_classes: Sequence[int]) -> np.ndarray:
    """The instance map the model gets: ``class * 1000 + k`` on object pixels, 0 elsewhere.

    Pixels of one object class sharing a value of ``inst`` form one object (so two touching cars
    painted as two objects stay two, and a value spanning two classes becomes two objects). Values
    already of the form ``class * 1000 + k`` for the pixels' class are kept (the canvas writes
    them, and the page refers to objects by them); other values get new numbers k after the kept
    ones, in their sorted order; object pixels without a value (``inst`` None or 0 there) become
    one object per 8-connected component after those.

    Args:
        label (np.ndarray): (H, W) class ids.
        inst (np.ndarray, optional): (H, W) instance values in any numbering, 0 = none.
        object_classes (Sequence[int]): the classes that have objects (parts).

    Returns:
        np.ndarray: (H, W) int64.
    """
    from scipy import ndimage
    label = np.asarray(label, np.int64)
    if inst is not None and np.asarray(inst).shape != label.shape:
        raise ValueError(f'assign_instances: instance map {np.asarray(inst).shape} and label map {label.shape} '
                         'must have the same size.')
    source = np.zeros_like(label) if inst is None else np.asarray(inst, np.int64)
    out = np.zeros_like(label)
    for cls in sorted(int(c) for c in object_classes):
        pixels = label == cls
        if not pixels.any():
            continue
        values = np.unique(source[pixels & (source != 0)])
        kept = values[(values // INSTANCE_OFFSET == cls) & (values % INSTANCE_OFFSET > 0)]
        out[pixels & np.isin(source, kept)] = source[pixels & np.isin(source, kept)]
        k = int(kept.max() % INSTANCE_OFFSET) if kept.size else 0
        for value in values[~np.isin(values, kept)]:
            k += 1
            out[pixels & (source == value)] = cls * INSTANCE_OFFSET + k
        components, count = ndimage.label(pixels & (source == 0), structure=np.ones((3, 3)))
        for index in range(1, count + 1):
            k += 1
            out[components == index] = cls * INSTANCE_OFFSET + k
        if k >= INSTANCE_OFFSET:
            raise ValueError(f'assign_instances: {k} objects of class {cls} (at most {INSTANCE_OFFSET - 1}).')
    return out


def encode_png(array: np.ndarray) -> bytes:
    """Lossless PNG bytes of an (H, W) id map (8-bit when it fits, else 16-bit) or an (H, W, 3) RGB image."""
    array = np.asarray(array)
    if array.ndim == 2:
        if array.min(initial=0) < 0 or array.max(initial=0) > 65535:
            raise ValueError(f'encode_png: ids must lie in 0..65535, got {array.min()}..{array.max()}.')
        array = array.astype(np.uint8 if array.max(initial=0) < 256 else np.uint16)
    else:
        array = cv2.cvtColor(np.ascontiguousarray(array, np.uint8), cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode('.png', array)
    if not ok:
        raise RuntimeError('encode_png: OpenCV could not encode the PNG.')
    return buffer.tobytes()


def canvas_payload(label: np.ndarray, inst: np.ndarray) -> dict:
    """What the browser canvas loads: the size and the raw little-endian ids, base64.

    Returns:
        dict: ``height``, ``width``, ``label`` (uint16 ids) and ``inst`` (int32 values), base64.
    """
    label = np.asarray(label)
    return dict(
        height=int(label.shape[0]),
        width=int(label.shape[1]),
        label=base64.b64encode(np.ascontiguousarray(label, '<u2').tobytes()).decode('ascii'),
        inst=base64.b64encode(np.ascontiguousarray(inst, '<i4').tobytes()).decode('ascii'))
