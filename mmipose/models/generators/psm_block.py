"""Residual block of the PSM generator: part modulation, then the OASIS SPADE block."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils import spectral_norm

from .normalization import SPADE, PartModulation, resize_nearest


class PSMResBlock(nn.Module):
    """``ResnetBlock_with_SPADE`` of iPOSE.

    With a part norm (``part_norm``): ``x = conv_p(LReLU(norm_p(x, ...)))`` first (x is
    *replaced*, so shortcut and main branch both see it); then the OASIS block
    ``out = shortcut(x) + conv_1(LReLU(norm_1(conv_0(LReLU(norm_0(x, seg))), seg)))`` with a
    learned SN 1x1 shortcut (no bias, SPADE-normalised) when ``fin != fout``. Spectral norm on
    conv_p, conv_0, conv_1 and conv_s only, as the reference.

    ``part_norm`` fills the reference's ``norm_p`` slot: ``'psm'`` is its ``SPADE3`` (part
    semantic modulation, :class:`PartModulation`); ``'spade'`` is its ``SPADEConcat`` (the paper's
    Table 3 "SPADE" row: one SPADE conditioned on ``[seg, part features]``, hidden width as the
    other SPADEs); None builds no ``norm_p``/``conv_p`` (OASIS block).

    Args:
        fin (int): Input channels.
        fout (int): Output channels.
        label_nc (int): Channels of the SPADE conditioning map.
        part_norm (str, optional): 'psm', 'spade' or None (see above).
        part_nc (int): Part feature / noise channels.
        norm_type (str): 'bn' (synchronized BN: the config's ``sync_bn = 'torch'``).
        spade_hidden_nc (int): Hidden width of the SPADE nets (128).
    """

    def __init__(self,
                 fin: int,
                 fout: int,
                 label_nc: int,
                 part_norm: Optional[str] = 'psm',
                 part_nc: int = 32,
                 norm_type: str = 'bn',
                 spade_hidden_nc: int = 128):
        super().__init__()
        if part_norm not in ('psm', 'spade', None):
            raise ValueError("PSMResBlock: part_norm must be 'psm', 'spade' or None, "
                             f'got {part_norm!r}')
        fmiddle = min(fin, fout)
        self.learned_shortcut = fin != fout
        self.part_norm = part_norm
        if part_norm == 'psm':
            self.norm_p = PartModulation(fin, part_nc, norm_type)
        elif part_norm == 'spade':
            self.norm_p = SPADE(fin, label_nc + part_nc, spade_hidden_nc, norm_type)
        if part_norm is not None:
            self.conv_p = spectral_norm(nn.Conv2d(fin, fin, 3, padding=1))
        self.conv_0 = spectral_norm(nn.Conv2d(fin, fmiddle, 3, padding=1))
        self.conv_1 = spectral_norm(nn.Conv2d(fmiddle, fout, 3, padding=1))
        self.norm_0 = SPADE(fin, label_nc, spade_hidden_nc, norm_type)
        self.norm_1 = SPADE(fmiddle, label_nc, spade_hidden_nc, norm_type)
        if self.learned_shortcut:
            self.conv_s = spectral_norm(nn.Conv2d(fin, fout, 1, bias=False))
            self.norm_s = SPADE(fin, label_nc, spade_hidden_nc, norm_type)

    def forward(self,
                x: Tensor,
                seg: Tensor,
                part_features: Optional[Tensor] = None,
                part_noise: Optional[Tensor] = None,
                mask: Optional[Tensor] = None,
                z: Optional[Tensor] = None) -> Tensor:
        """(B,fin,h,w) -> (B,fout,h,w).

        ``seg`` (B,label_nc,H,W) is the SPADE conditioning map, or, with the 3D noise ``z`` given
        apart, the semantic map alone (B,label_nc-Z,H,W) and ``z`` a (B,Z) vector or (B,Z,H,W)
        map (see :class:`SPADE`); part features (B,part_nc,H,W); part noise and mask as
        :class:`PartModulation` ('psm' only)."""
        # resize the conditioning maps once for the block's (up to four) norms, not in each
        size = x.shape[-2:]
        seg = resize_nearest(seg, size)
        if z is not None and z.dim() == 4:
            z = resize_nearest(z, size)
        if part_features is not None:
            part_features = resize_nearest(part_features, size)
        if mask is not None:
            mask = resize_nearest(mask, size)
        if self.part_norm == 'psm':
            x = self.conv_p(F.leaky_relu(self.norm_p(x, part_features, part_noise, mask), 0.2))
        elif self.part_norm == 'spade':
            seg_and_parts = torch.cat([seg, part_features], dim=1)
            x = self.conv_p(F.leaky_relu(self.norm_p(x, seg_and_parts, z), 0.2))
        x_s = self.conv_s(self.norm_s(x, seg, z)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg, z), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg, z), 0.2))
        return x_s + dx
