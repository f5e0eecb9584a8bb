"""Metric helpers of tools/analysis/toy_ablation.py (kept apart so they can be tested alone).

- :func:`object_part_accuracy`: part accuracy on object pixels (ground-truth part > 0);
- :func:`object_boxes` / :func:`crop_objects`: object crops from an instance map;
- :func:`segmenter_features`: a feature vector per crop from a trained MMSeg UNet segmenter;
- :func:`frechet_distance`: Fréchet distance of two feature sets (the FID formula);
- :func:`mean_spread`: mean, std, min and max over seeds.
"""
import warnings
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy import linalg
from torch import Tensor

#: instance-map values of objects are ``label * 1000 + k`` (k >= 1); stuff pixels hold the label id
INSTANCE_OFFSET = 1000


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


def object_boxes(inst: np.ndarray, min_pixels: int = 16, min_side: int = 4) -> np.ndarray:
    """Bounding boxes of the objects of an instance map.

    Args:
        inst (np.ndarray): (H, W) instance ids; objects are the values >= 1000 (``label*1000+k``).
        min_pixels (int): objects with fewer pixels are left out.
        min_side (int): so are objects whose box is narrower or lower than this.

    Returns:
        np.ndarray: (K, 5) int64 rows ``[instance value, y0, y1, x0, x1]`` with exclusive ends,
        sorted by instance value.
    """
    inst = np.asarray(inst)
    if inst.ndim != 2:
        raise ValueError(f'object_boxes: the instance map must be (H, W), got {inst.shape}')
    rows = []
    for value in np.unique(inst[inst >= INSTANCE_OFFSET]):
        ys, xs = np.nonzero(inst == value)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        if len(ys) >= min_pixels and y1 - y0 >= min_side and x1 - x0 >= min_side:
            rows.append([value, y0, y1, x0, x1])
    return np.asarray(rows, np.int64).reshape(-1, 5)


def crop_objects(image: Tensor, boxes: np.ndarray, size: int) -> Tensor:
    """Cut the boxes out of an image and resize each to ``size x size`` (bilinear, no padding).

    Args:
        image (Tensor): (3, H, W) float image.
        boxes (np.ndarray): (K, 5) rows of :func:`object_boxes`.
        size (int): output side.

    Returns:
        Tensor: (K, 3, size, size) float.
    """
    crops = [F.interpolate(image[None, :, y0:y1, x0:x1].float(), size=(size, size), mode='bilinear',
                           align_corners=False)[0] for _, y0, y1, x0, x1 in np.asarray(boxes).reshape(-1, 5)]
    return torch.stack(crops) if crops else image.new_zeros((0, 3, size, size)).float()


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


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Fréchet distance of two Gaussians fitted to feature sets (the FID formula).

    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with unbiased covariances. Like FID
    it is biased upwards for few samples: compare values computed from equally many samples.

    Args:
        feats_a (np.ndarray): (N, D) features.
        feats_b (np.ndarray): (M, D) features; N, M >= 2.
    """
    a, b = np.asarray(feats_a, np.float64), np.asarray(feats_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(f'frechet_distance: need two (N>=2, D) feature sets of equal D, got {a.shape} and {b.shape}')
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False).reshape(a.shape[1], -1), np.cov(b, rowvar=False).reshape(b.shape[1], -1)
    with warnings.catch_warnings():  # fewer samples than dimensions: singular, handled below
        warnings.simplefilter('ignore')
        root = linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(root).all():  # regularise as the usual FID code does
            offset = np.eye(len(cov_a)) * 1e-6
            root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root.real))


def mean_spread(values: Sequence[float]) -> Dict[str, float]:
    """Mean, population std, min and max of per-seed values."""
    array = np.asarray(list(values), np.float64)
    if array.size == 0:
        raise ValueError('mean_spread: no values')
    return dict(mean=float(array.mean()), std=float(array.std()), min=float(array.min()), max=float(array.max()))
