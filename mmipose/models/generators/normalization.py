"""Spatially-adaptive normalisations of the PSM generator: SPADE and part modulation."""
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def parameter_free_norm(num_features: int, norm_type: str = 'bn') -> nn.Module:
    """BatchNorm without affine parameters (reference: synchronized BN, affine=False).

    Synchronized BN for multi-GPU training is asked for the MMEngine way, with ``sync_bn = 'torch'``
    in the config: the runner then converts every BatchNorm of the model to ``SyncBatchNorm`` (same
    state-dict keys) in distributed runs only, so the same config also trains on one device.

    Args:
        num_features (int): Channels.
        norm_type (str): 'bn' (``BatchNorm2d``), the only value.

    Raises:
        ValueError: for ``norm_type='syncbn'`` (removed: it named the config key to use) or any
            other value.
    """
    if norm_type == 'bn':
        return nn.BatchNorm2d(num_features, affine=False)
    if norm_type == 'syncbn':
        raise ValueError("norm_type='syncbn' is no longer supported: keep norm_type='bn' and set "
                         "`sync_bn = 'torch'` in the config (MMEngine's runner then converts every "
                         'BatchNorm to SyncBatchNorm in distributed runs).')
    raise ValueError(f"norm_type must be 'bn', got {norm_type!r} (for synchronized BN set "
                     "`sync_bn = 'torch'` in the config)")


def resize_nearest(t: Tensor, size) -> Tensor:
    """Nearest resize of t (B,C,H,W) to ``size`` (h,w), as ``F.interpolate(mode='nearest')``.

    Returns t itself when it already has that size. A downsampling by whole factors (H = f*h,
    W = g*w) is the strided view ``t[..., ::f, ::g]``: legacy nearest picks source pixel
    ``floor(i * H / h) = i * f``, so the result is identical, but PyTorch's CPU kernel first copies
    the whole input (for the generator's full-resolution conditioning map, a large copy for a 2x4
    output). Other sizes go through ``F.interpolate``.
    """
    h, w = int(size[0]), int(size[1])
    in_h, in_w = t.shape[-2:]
    if (in_h, in_w) == (h, w):
        return t
    if in_h % h == 0 and in_w % w == 0:
        return t[..., ::in_h // h, ::in_w // w]
    return F.interpolate(t, size=(h, w), mode='nearest')


class SPADE(nn.Module):
    """SPADE: ``BN(x) * (1 + gamma(seg)) + beta(seg)`` with gamma/beta from a 2-layer conv net.

    Args:
        norm_nc (int): Channels of x.
        label_nc (int): Channels of the conditioning map (z_dim + C in OASIS).
        hidden_nc (int): Hidden width of ``mlp_shared`` (128).
        norm_type (str): See :func:`parameter_free_norm`.
    """

    def __init__(self, norm_nc: int, label_nc: int, hidden_nc: int = 128, norm_type: str = 'bn'):
        super().__init__()
        self.first_norm = parameter_free_norm(norm_nc, norm_type)
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, hidden_nc, 3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden_nc, norm_nc, 3, padding=1)
        self.mlp_beta = nn.Conv2d(hidden_nc, norm_nc, 3, padding=1)

    def forward(self, x: Tensor, seg: Tensor) -> Tensor:
        """x (B,norm_nc,h,w), seg (B,label_nc,H,W) nearest-resized to (h,w) -> (B,norm_nc,h,w)."""
        normalized = self.first_norm(x)
        actv = self.mlp_shared(resize_nearest(seg, x.shape[-2:]))
        return normalized * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)


class PartModulation(nn.Module):
    """Part semantic modulation (the reference's ``SPADE3``, paper Sec. 3.2).

    Where a part is predicted (``mask = 1``) the 1-channel gamma/beta come from the part
    features; elsewhere from the part noise. ``out = BN(x) * (1 + gamma) + beta``, with gamma and
    beta broadcast over the channels of x.

    Args:
        norm_nc (int): Channels of x.
        part_nc (int): Channels of the part features and of the part noise (32).
        norm_type (str): See :func:`parameter_free_norm`.
    """

    def __init__(self, norm_nc: int, part_nc: int = 32, norm_type: str = 'bn'):
        super().__init__()
        self.first_norm = parameter_free_norm(norm_nc, norm_type)
        self.mlp_shared = nn.Sequential(nn.Conv2d(part_nc, part_nc, 3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(part_nc, 1, 3, padding=1)
        self.mlp_beta = nn.Conv2d(part_nc, 1, 3, padding=1)
        self.mlp_shared_nos = nn.Sequential(nn.Conv2d(part_nc, part_nc, 3, padding=1), nn.ReLU())
        self.mlp_gamma_nos = nn.Conv2d(part_nc, 1, 3, padding=1)
        self.mlp_beta_nos = nn.Conv2d(part_nc, 1, 3, padding=1)

    def forward(self, x: Tensor, part_features: Tensor, part_noise: Tensor, mask: Tensor) -> Tensor:
        """Modulate x with parts.

        Args:
            x (Tensor): (B,norm_nc,h,w).
            part_features (Tensor): (B,part_nc,H,W), nearest-resized to (h,w).
            part_noise (Tensor): (B,part_nc,h,w), already at x's size.
            mask (Tensor): (B,1,H,W) float, 1 where a part is predicted; nearest-resized.

        Returns:
            Tensor: (B,norm_nc,h,w).
        """
        normalized = self.first_norm(x)
        actv = self.mlp_shared(resize_nearest(part_features, x.shape[-2:]))
        actv_nos = self.mlp_shared_nos(part_noise)
        m = resize_nearest(mask, x.shape[-2:])
        gamma = self.mlp_gamma(actv) * m + self.mlp_gamma_nos(actv_nos) * (1 - m)
        beta = self.mlp_beta(actv) * m + self.mlp_beta_nos(actv_nos) * (1 - m)
        return normalized * (1 + gamma) + beta
