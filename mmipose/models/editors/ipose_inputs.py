"""Turn preprocessed batches into the tensors the iPOSE networks take (label one-hot, objects)."""
from typing import List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from mmipose.datasets.object_boxes import OBJECT_ROW_WIDTH


def label_to_onehot(label: Tensor, num_classes: int) -> Tensor:
    """One-hot encode a semantic label map with a scatter (the reference's preprocessing).

    Args:
        label (Tensor): (B,1,H,W) or (B,H,W) integer label map with ids in ``0..num_classes-1``.
        num_classes (int): Number of semantic channels C (``semantic_nc``, don't-care included).

    Returns:
        Tensor: (B,C,H,W) float32 one-hot map on ``label``'s device.

    Raises:
        ValueError: if ``label`` has the wrong rank or an id outside ``0..num_classes-1``.
    """
    if label.dim() == 3:
        label = label.unsqueeze(1)
    if label.dim() != 4 or label.shape[1] != 1:
        raise ValueError(f"IPOSE: inputs['label'] must be (B,1,H,W), got {tuple(label.shape)}")
    if label.is_floating_point():
        label = label.round()
    label = label.long()
    low, high = int(label.min()), int(label.max())
    if low < 0 or high >= num_classes:
        bad = high if high >= num_classes else low
        raise ValueError(f"IPOSE: inputs['label'] contains class id {bad}, outside 0..{num_classes - 1} "
                         f'(num_classes={num_classes}). Check the dataset label mapping or the model\'s '
                         '`num_classes` (semantic_nc, including the don\'t-care class).')
    b, _, h, w = label.shape
    onehot = torch.zeros(b, num_classes, h, w, device=label.device)
    return onehot.scatter_(1, label, 1.0)


def check_instance_map(inst: Optional[Tensor], label: Tensor) -> Tensor:
    """Validate the instance map and cast it to int64.

    Args:
        inst (Tensor | None): (B,1,H,W) instance map, or None (no objects: an all-zero map).
        label (Tensor): (B,1,H,W) label map whose size ``inst`` must match.

    Returns:
        Tensor: (B,1,H,W) int64 instance map.
    """
    if inst is None:
        return torch.zeros_like(label, dtype=torch.long)
    if inst.dim() == 3:
        inst = inst.unsqueeze(1)
    if inst.shape[0] != label.shape[0] or inst.shape[-2:] != label.shape[-2:]:
        raise ValueError(f"IPOSE: inputs['inst'] has shape {tuple(inst.shape)} but inputs['label'] has "
                         f'{tuple(label.shape)}; the instance map must have the label map\'s batch and size '
                         '(resize both with nearest interpolation in the pipeline).')
    return inst.long()


def objects_from_samples(data_samples, batch_size: int, device: torch.device) -> List[Tensor]:
    """Read the per-image object tables from data-sample metainfo (``objects``, data contract).

    Args:
        data_samples: A stacked ``DataSample`` (metainfo ``objects`` = list of B arrays), a list of
            B ``DataSample`` s, or None (no objects).
        batch_size (int): B.
        device (torch.device): Where the tables go.

    Returns:
        list[Tensor]: B int64 tensors of shape (K_b, 8); K_b may be 0.
    """
    if data_samples is None:
        tables: Sequence = [None] * batch_size
    elif isinstance(data_samples, (list, tuple)):
        tables = [ds.metainfo.get('objects', None) for ds in data_samples]
    else:
        tables = data_samples.metainfo.get('objects', None)
        if tables is None:
            tables = [None] * batch_size
        elif not isinstance(tables, (list, tuple)):
            # A single image whose sample was not stacked.
            tables = [tables]
    if len(tables) != batch_size:
        raise ValueError(f"IPOSE: data_samples carry {len(tables)} 'objects' tables for a batch "
                         f'of {batch_size} images.')
    return [_as_object_table(t, device, i) for i, t in enumerate(tables)]


def _as_object_table(table, device: torch.device, index: int) -> Tensor:
    if table is None:
        return torch.zeros(0, OBJECT_ROW_WIDTH, dtype=torch.long, device=device)
    if isinstance(table, np.ndarray):
        table = torch.from_numpy(np.ascontiguousarray(table))
    table = torch.as_tensor(table).to(device=device, dtype=torch.long)
    if table.numel() == 0:
        return table.reshape(0, OBJECT_ROW_WIDTH)
    if table.dim() != 2 or table.shape[1] != OBJECT_ROW_WIDTH:
        raise ValueError(f"IPOSE: metainfo 'objects' of image {index} has shape {tuple(table.shape)}, expected "
                         f'(K, {OBJECT_ROW_WIDTH}) rows [instance_value, part_category, hs, he, ws, we, H0, W0].')
    return table
