"""Metric helpers of the toy ablation (:mod:`mmipose.toy.ablation`).

- :func:`object_part_accuracy`: part accuracy on object pixels (ground-truth part > 0);
- :func:`object_rows` / :func:`object_crops`: object crops from an instance map, with the package's
  object boxes and crop rule;
- :func:`segmenter_features`: a feature vector per crop from a trained MMSeg UNet segmenter;
- ``frechet_distance``: :func:`mmipose.evaluation.ipose_fid.frechet_distance` (the FID formula);
- :func:`mean_spread`: mean, std, min and max over seeds.
"""
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from mmipose.datasets.object_boxes import INSTANCE_OFFSET, OBJECT_ROW_WIDTH, compute_object_boxes
from mmipose.evaluation.ipose_fid import frechet_distance  # noqa: F401  (the ablation's object-crop FD)
from mmipose.models.losses.clip_style_loss import crop_objects


def object_part_accuracy(pred: np.ndarray, gt_parts: np.ndarray) -> Tuple[int, int]:
    """Correct and counted pixels of a part prediction, counted on object pixels only.

    Args:
        pred (np.ndarray): (..., H, W) predicted part ids.
        gt_parts (np.ndarray): same shape, ground-truth part ids; 0 = no object (not counted).

    Returns:
        tuple[int, int]: (pixels with ``pred == gt``, pixels with ``gt > 0``); the accuracy in
        percent is ``100 * correct / counted`` (pooled over images, so larger objects weigh more).
    """
    pred, gt_parts = np.asarray(pred), np.asarray(gt_parts)
    if pred.shape != gt_parts.shape:
        raise ValueError(f'object_part_accuracy: prediction {pred.shape} and ground truth {gt_parts.shape} differ')
    on_object = gt_parts > 0
    return int((pred[on_object] == gt_parts[on_object]).sum()), int(on_object.sum())


def object_rows(inst: np.ndarray, min_extent: int = 4) -> np.ndarray:
    """The object rows of a toy instance map (:func:`mmipose.datasets.object_boxes.compute_object_boxes`).

    Args:
        inst (np.ndarray): (H, W) instance ids; objects are the values >= ``INSTANCE_OFFSET``.
        min_extent (int): smaller objects (box height or width) are left out.

    Returns:
        np.ndarray: (K, 8) rows ``[instance value, label, hs, he, ws, we, 1, 1]``.
    """
    inst = np.asarray(inst).astype(np.int64)
    if inst.ndim != 2:
        raise ValueError(f'object_rows: the instance map must be (H, W), got {inst.shape}')
    labels = np.unique(inst[inst >= INSTANCE_OFFSET] // INSTANCE_OFFSET).tolist()
    return compute_object_boxes(
        inst,
        inst // INSTANCE_OFFSET, {int(c): int(c)
                                  for c in labels},
        min_extent=min_extent,
        min_instance_value=INSTANCE_OFFSET)


def object_crops(image: Tensor, rows: np.ndarray, size: int) -> Tensor:
    """Crops of the objects of an image with the rule of ObjectFID and the CLIP style loss.

    Args:
        image (Tensor): (3, H, W) float image.
        rows (np.ndarray): (K, 8) rows of :func:`object_rows`.
        size (int): output side.

    Returns:
        Tensor: (K, 3, size, size) float (:func:`mmipose.models.losses.clip_style_loss.crop_objects`).
    """
    rows = torch.as_tensor(np.asarray(rows), dtype=torch.long).reshape(-1, OBJECT_ROW_WIDTH)
    if not len(rows):
        return image.new_zeros((0, 3, size, size)).float()
    return crop_objects([image[None].float()], [rows], [(0, k) for k in range(len(rows))], size)[0]


@torch.no_grad()
def segmenter_features(segmenter: torch.nn.Module, bgr: Tensor, batch_size: int = 64) -> np.ndarray:
    """Global-average-pooled bottleneck features of an MMSeg UNet segmenter.

    The crops go through the segmenter's own normalisation (mean/std, BGR -> RGB as its data
    preprocessor says), then its backbone; the first backbone output (for MMSeg's UNet the
    deepest encoder stage, 1/8 resolution) is averaged over space.

    Args:
        segmenter (nn.Module): MMSeg ``EncoderDecoder`` in eval mode.
        bgr (Tensor): (N, 3, h, w) BGR [0, 255] crops; h and w divisible by the backbone's stride.
        batch_size (int): crops per forward.

    Returns:
        np.ndarray: (N, C) float64 features.
    """
    preprocessor = segmenter.data_preprocessor
    device = next(segmenter.parameters()).device
    feats = []
    for start in range(0, len(bgr), batch_size):
        x = bgr[start:start + batch_size].to(device, torch.float32)
        if getattr(preprocessor, 'channel_conversion', False):
            x = x[:, [2, 1, 0]]
        if getattr(preprocessor, '_enable_normalize', False):
            x = (x - preprocessor.mean) / preprocessor.std
        feats.append(segmenter.backbone(x)[0].mean(dim=(2, 3)).double().cpu())
    if not feats:
        raise ValueError('segmenter_features: no crops (no object passed the size filter)')
    return torch.cat(feats).numpy()


def mean_spread(values: Sequence[float]) -> Dict[str, float]:
    """Mean, population std, min and max of per-seed values."""
    array = np.asarray(list(values), np.float64)
    if array.size == 0:
        raise ValueError('mean_spread: no values')
    return dict(mean=float(array.mean()), std=float(array.std()), min=float(array.min()), max=float(array.max()))
