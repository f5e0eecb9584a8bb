"""PartNet's shape/mask encoder and part decoder (the authors' ``generator_partsyn2.py``).

Module and attribute names follow the authors' ``best_G.pth`` (``enc0.0.weight``, ``dec1.0.bias``, ...)
so official checkpoints load without renaming.
"""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

#: Encoder widths of the reference (``chs[:5]``): enc0 out, enc1 out, enc2 out, enc3 out.
ENCODER_CHANNELS = (32, 64, 64, 96)
#: Decoder widths of the reference: dec1, dec2, dec3 out (dec3's is the part feature width).
DECODER_CHANNELS = (64, 64, 32)


def conv_block(in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int) -> nn.Sequential:
    """Conv2d (bias) -> InstanceNorm2d (no affine, no running stats) -> LeakyReLU(0.2)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.InstanceNorm2d(out_channels),
        nn.LeakyReLU(0.2))


def deconv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """ConvTranspose2d(k4, s2, p1) -> InstanceNorm2d -> ReLU: doubles the resolution."""
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1), nn.InstanceNorm2d(out_channels), nn.ReLU())


class PartShapeEncoder(nn.Module):
    """Multi-scale encoder of PartNet (used as ``shape_encoder`` and ``mask_encoder``).

    ``enc0`` (k7, s1) then three stride-2 blocks give ``f0`` at 1/8 resolution (96 ch); two more
    stride-2 blocks (``ms_enc0`` on ``f0``, ``ms_enc1`` on ``ms_enc0``'s output) are bilinearly
    upsampled (align_corners=False) back to ``f0``'s size and concatenated.

    Args:
        in_channels (int): 5 for the shape encoder (``[x, y, shape x3]``), 1 for the mask encoder.
        channels (Sequence[int]): Output widths of enc0..enc3 (the reference's (32, 64, 64, 96)).

    Shapes:
        input (B, in_channels, H, W) -> output (B, 3 * channels[3], H/8, W/8) (288 channels).
    """

    def __init__(self, in_channels: int, channels: Sequence[int] = ENCODER_CHANNELS):
        super().__init__()
        if len(channels) != 4:
            raise ValueError(f'PartShapeEncoder: channels must give 4 widths (enc0..enc3), got {tuple(channels)}')
        c0, c1, c2, c3 = channels
        self.enc0 = conv_block(in_channels, c0, 7, 1, 3)
        self.enc1 = conv_block(c0, c1, 4, 2, 1)
        self.enc2 = conv_block(c1, c2, 4, 2, 1)
        self.enc3 = conv_block(c2, c3, 4, 2, 1)
        self.ms_enc0 = conv_block(c3, c3, 4, 2, 1)
        self.ms_enc1 = conv_block(c3, c3, 4, 2, 1)
        self.out_channels = 3 * c3

    def forward(self, x: Tensor) -> Tensor:
        f0 = self.enc3(self.enc2(self.enc1(self.enc0(x))))
        coarse = self.ms_enc0(f0)
        coarser = self.ms_enc1(coarse)
        size = f0.shape[-2:]
        scales: List[Tensor] = [
            f0,
            F.interpolate(coarse, size, mode='bilinear', align_corners=False),
            F.interpolate(coarser, size, mode='bilinear', align_corners=False)
        ]
        return torch.cat(scales, dim=1)


class PartDecoder(nn.Module):
    """Three deconvolution blocks 288 -> 64 -> 64 -> 32, each doubling the resolution.

    Args:
        in_channels (int): Token width of the attention output (288).
        channels (Sequence[int]): Output widths of dec1..dec3 (the reference's (64, 64, 32)).

    Shapes:
        input (B, in_channels, h, w) -> output (B, channels[2], 8h, 8w) (post-ReLU part features).
    """

    def __init__(self, in_channels: int = 288, channels: Sequence[int] = DECODER_CHANNELS):
        super().__init__()
        if len(channels) != 3:
            raise ValueError(f'PartDecoder: channels must give 3 widths (dec1..dec3), got {tuple(channels)}')
        self.dec1 = deconv_block(in_channels, channels[0])
        self.dec2 = deconv_block(channels[0], channels[1])
        self.dec3 = deconv_block(channels[1], channels[2])
        self.out_channels = channels[2]

    def forward(self, x: Tensor) -> Tensor:
        return self.dec3(self.dec2(self.dec1(x)))
