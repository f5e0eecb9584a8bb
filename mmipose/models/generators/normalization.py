"""Spatially-adaptive normalisations of the PSM generator: SPADE and part modulation."""
from typing import Optional, Tuple

import torch
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
        ValueError: for any other value (the message names the config key for synchronized BN).
    """
    if norm_type == 'bn':
        return nn.BatchNorm2d(num_features, affine=False)
    raise ValueError(f"norm_type must be 'bn', got {norm_type!r} (for synchronized BN set "
                     "`sync_bn = 'torch'` in the config)")


def resize_nearest(t: Tensor, size) -> Tensor:
    """Nearest resize of t (B,C,H,W) to ``size`` (h,w), as ``F.interpolate(mode='nearest')``.

    Returns t itself when it already has that size. A downsampling by whole factors (H = f*h,
    W = g*w) is the strided view ``t[..., ::f, ::g]``: legacy nearest picks source pixel
    ``floor(i * H / h) = i * f``, so the result is identical, but PyTorch's CPU kernel first copies
    the whole input (for the generator's full-resolution conditioning map, a large copy for a 2x4
    output). Other sizes go through ``F.interpolate``. During ONNX export the whole-factor case is
    also an ``F.interpolate`` (by scale factor): a graph op whose output follows a dynamic input size.
    """
    h, w = int(size[0]), int(size[1])
    in_h, in_w = t.shape[-2:]
    if (in_h, in_w) == (h, w):
        return t
    if in_h % h == 0 and in_w % w == 0:
        if torch.onnx.is_in_onnx_export():
            # the same pixels, as a graph op whose output size follows the input size (dynamic H, W)
            return F.interpolate(t, scale_factor=(1.0 / float(in_h // h), 1.0 / float(in_w // w)), mode='nearest')
        return t[..., ::in_h // h, ::in_w // w]
    return F.interpolate(t, size=(h, w), mode='nearest')


def _repeat_middle(t: Tensor, size: int, dim: int) -> Tensor:
    """Stretch ``[first, middle, last]`` along ``dim`` to ``size`` by repeating the middle entry.

    Built from ``cat`` and ``expand`` (not an index gather): their backward is a slice and a sum,
    where a gather's is a scatter-add, which was several times slower on a CPU. Sizes below 3
    are already complete (first and last only, or a single entry).
    """
    if size < 3:
        return t
    middle = t.narrow(dim, 1, 1)
    shape = list(t.shape)
    shape[dim] = size - 2
    return torch.cat([t.narrow(dim, 0, 1), middle.expand(shape), t.narrow(dim, 2, 1)], dim=dim)


def conv3x3_with_constant_channels(conv: nn.Conv2d, z: Tensor, rest: Tensor) -> Tensor:
    """``conv(cat([z broadcast over H x W, rest], dim=1))`` without building the broadcast channels.

    OASIS's 3D noise is a vector repeated at every pixel and concatenated before the semantic
    map, so SPADE's first convolution spends most of its work (64 of 64 + C input channels, at
    every resolution) on a map that is constant. With zero padding, the contribution of a constant
    map takes only 3 x 3 distinct values per output channel (top/middle/bottom row times
    left/middle/right column: which taps fall outside the image). Those come from a convolution of
    a constant map of at most 3 x 3 pixels, stretched to (H, W) by repeating its middle row and
    column. The result equals the convolution of the concatenated map up to float summation
    order, values and gradients alike.

    Args:
        conv (nn.Conv2d): 3x3, stride 1, padding 1 (zeros), dilation 1, groups 1, its input
            channels = z channels first, then ``rest``.
        z (Tensor): (B, Z) the constant channels.
        rest (Tensor): (B, C, H, W) the other channels.

    Returns:
        Tensor: (B, out_channels, H, W).
    """
    if (conv.kernel_size, conv.stride, conv.padding, conv.dilation, conv.groups, conv.padding_mode) != \
            ((3, 3), (1, 1), (1, 1), (1, 1), 1, 'zeros'):
        raise ValueError(f'conv3x3_with_constant_channels needs a 3x3 stride-1 zero-padded convolution, got {conv}')
    batch, num_z = z.shape
    height, width = rest.shape[-2:]
    if num_z + rest.shape[1] != conv.in_channels:
        raise ValueError(f'conv3x3_with_constant_channels: {num_z} constant + {rest.shape[1]} other channels != the '
                         f'convolution\'s {conv.in_channels} input channels')
    weight_z, weight_rest = conv.weight[:, :num_z], conv.weight[:, num_z:]
    out = F.conv2d(rest, weight_rest, conv.bias, padding=1)
    small = (min(height, 3), min(width, 3))
    constant = F.conv2d(z.view(batch, num_z, 1, 1).expand(batch, num_z, *small), weight_z, padding=1)
    constant = _repeat_middle(_repeat_middle(constant, height, dim=2), width, dim=3)
    return out + constant


def gamma_and_beta(actv: Tensor, conv_gamma: nn.Conv2d, conv_beta: nn.Conv2d) -> Tuple[Tensor, Tensor]:
    """``(conv_gamma(actv), conv_beta(actv))`` as one convolution with both weights stacked.

    The two convolutions read the same input, so one call with ``out_gamma + out_beta`` output
    channels gives the same values (each output channel is its own sum) with one pass over
    ``actv``: about 1.7x faster for the toy generator's full-resolution SPADEs on a CPU (bfloat16
    forward and backward), where each 1- or 8-channel output convolution is memory-bound.

    Args:
        actv (Tensor): (B, hidden, H, W).
        conv_gamma (nn.Conv2d): hidden -> C_gamma; ``conv_beta`` hidden -> C_beta; same kernel,
            stride and padding, both with a bias.

    Returns:
        tuple[Tensor, Tensor]: gamma (B, C_gamma, H, W) and beta (B, C_beta, H, W).
    """
    weight = torch.cat([conv_gamma.weight, conv_beta.weight])
    bias = torch.cat([conv_gamma.bias, conv_beta.bias])
    both = F.conv2d(actv, weight, bias, conv_gamma.stride, conv_gamma.padding)
    return both.split([conv_gamma.out_channels, conv_beta.out_channels], dim=1)


class SPADE(nn.Module):
    """SPADE: ``BN(x) * (1 + gamma(seg)) + beta(seg)`` with gamma/beta from a 2-layer conv net.

    The conditioning map is ``seg``, or ``cat([z, seg])`` when the 3D noise ``z`` is given apart
    (OASIS; the noise channels come first, as in the reference's weights). A noise vector is never
    broadcast to a map: see :func:`conv3x3_with_constant_channels`.

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

    def forward(self, x: Tensor, seg: Tensor, z: Optional[Tensor] = None) -> Tensor:
        """Modulate x with the conditioning map.

        Args:
            x (Tensor): (B,norm_nc,h,w).
            seg (Tensor): (B,label_nc,H,W), or (B,label_nc-Z,H,W) when ``z`` is given;
                nearest-resized to (h,w).
            z (Tensor, optional): noise channels placed before ``seg``: a (B,Z) vector (the same
                at every pixel) or a (B,Z,H',W') map, nearest-resized to (h,w).

        Returns:
            Tensor: (B,norm_nc,h,w).
        """
        normalized = self.first_norm(x)
        size = x.shape[-2:]
        seg = resize_nearest(seg, size)
        if z is None:
            hidden = self.mlp_shared[0](seg)
        elif z.dim() == 2:
            hidden = conv3x3_with_constant_channels(self.mlp_shared[0], z, seg)
        else:
            hidden = self.mlp_shared[0](torch.cat([resize_nearest(z, size), seg], dim=1))
        actv = self.mlp_shared[1](hidden)
        gamma, beta = gamma_and_beta(actv, self.mlp_gamma, self.mlp_beta)
        return normalized * (1 + gamma) + beta


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
        gamma_part, beta_part = gamma_and_beta(actv, self.mlp_gamma, self.mlp_beta)
        gamma_noise, beta_noise = gamma_and_beta(actv_nos, self.mlp_gamma_nos, self.mlp_beta_nos)
        gamma = gamma_part * m + gamma_noise * (1 - m)
        beta = beta_part * m + beta_noise * (1 - m)
        return normalized * (1 + gamma) + beta
