"""Instance-map formats of the scene datasets, and the error raised when a map has another one."""
from typing import Optional

import numpy as np

#: Format names used in errors and in the summary of ``tools/analysis/check_dataset.py``.
FORMAT_COCO = '16-bit class*256+k'
FORMAT_CITYSCAPES = '16-bit class*1000+k'
FORMAT_SPADE = '8-bit per-image ids'
FORMAT_ADE20K = 'RGB (R class, G id)'
FORMAT_EMPTY = 'no object ids (16-bit, all < 256)'
FORMAT_UNKNOWN = 'unknown'


class InstanceFormatError(ValueError):
    """An instance map whose format is not the one the pipeline expects (a systematic data problem)."""


def _agreement(ids: np.ndarray, label: np.ndarray, divisor: int) -> float:
    """Fraction of object pixels whose ``id // divisor`` is the label value or the label + 1 (raw COCO)."""
    cls = ids // divisor
    return float(np.mean((cls == label) | (cls == label + 1)))


def detect_instance_format(inst: np.ndarray, label: Optional[np.ndarray] = None) -> str:
    """Name the format of a stored instance map (as loaded unchanged).

    * 3 channels: ADE20K's RGB map;
    * 8-bit single channel: SPADE's per-image ids (a copy of the label map with instances counted
      from 0), whatever the values;
    * 16-bit without ids >= 256: no objects (all 0, or bare class ids as Cityscapes' crowd / stuff);
    * 16-bit: ``class*1000+k`` or ``class*256+k``, whichever divisor makes ``id // divisor`` agree
      with the label map (raw COCO ids are category - 1, hence label or label + 1) on more pixels
      of ids >= 256; without a label map, ids >= 1000 with ``id % 1000 < 256`` read as Cityscapes.

    Args:
        inst (np.ndarray): (H, W) or (H, W, C) map.
        label (np.ndarray, optional): (H, W) label map of the same image.

    Returns:
        str: One of the ``FORMAT_*`` names.
    """
    inst = np.asarray(inst)
    if inst.ndim == 3 and inst.shape[-1] >= 3:
        return FORMAT_ADE20K
    inst = np.squeeze(inst)
    if inst.dtype == np.uint8:
        return FORMAT_SPADE
    if inst.ndim != 2 or not np.issubdtype(inst.dtype, np.integer):
        return FORMAT_UNKNOWN
    big = inst >= 256
    if not big.any():
        return FORMAT_EMPTY
    ids = inst[big].astype(np.int64)
    if label is not None and np.asarray(label).shape[:2] == inst.shape:
        lab = np.asarray(label).astype(np.int64)[big]
        return FORMAT_CITYSCAPES if _agreement(ids, lab, 1000) >= _agreement(ids, lab, 256) else FORMAT_COCO
    return FORMAT_CITYSCAPES if bool(np.all((ids >= 1000) & (ids % 1000 < 256))) else FORMAT_COCO
