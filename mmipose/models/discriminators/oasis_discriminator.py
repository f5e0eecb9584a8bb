"""OASIS U-Net discriminator (N+1 classes) with iPOSE's global adversarial head."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn.utils import spectral_norm

from mmipose.registry import MODELS

from ..weight_init import init_gan_weights


class OASISResBlockD(nn.Module):
    """Residual block of the OASIS discriminator (``residual_block_D``).

    ``conv1`` = [SN conv3x3] for the first block, [LReLU, 2x nearest up, SN conv3x3] for up
    blocks, [LReLU, SN conv3x3] otherwise; ``conv2`` = [LReLU, SN conv3x3]. Down blocks
    average-pool the residual branch. A learned SN 1x1 shortcut (with bias) when fin != fout:
    first block pools then convolves; other blocks upsample -> conv -> pool.

    Args:
        in_channels (int): fin.
        out_channels (int): fout.
        up_or_down (int): 1 = upsample x2, -1 = downsample x2, 0 = same size.
        first (bool): The image-level first block (no leading activation).
    """

    def __init__(self, in_channels: int, out_channels: int, up_or_down: int, first: bool = False):
        super().__init__()
        self.up_or_down = up_or_down
        self.first = first
        self.learned_shortcut = in_channels != out_channels
        conv1 = spectral_norm(nn.Conv2d(in_channels, out_channels, 3, 1, 1))
        if first:
            self.conv1 = nn.Sequential(conv1)
        elif up_or_down > 0:
            self.conv1 = nn.Sequential(nn.LeakyReLU(0.2), nn.Upsample(scale_factor=2), conv1)
        else:
            self.conv1 = nn.Sequential(nn.LeakyReLU(0.2), conv1)
        self.conv2 = nn.Sequential(nn.LeakyReLU(0.2), spectral_norm(nn.Conv2d(out_channels, out_channels, 3, 1, 1)))
        if self.learned_shortcut:
            self.conv_s = spectral_norm(nn.Conv2d(in_channels, out_channels, 1, 1, 0))
        if up_or_down > 0:
            self.sampling = nn.Upsample(scale_factor=2)
        elif up_or_down < 0:
            self.sampling = nn.AvgPool2d(2)
        else:
            self.sampling = nn.Identity()

    def shortcut(self, x: Tensor) -> Tensor:
        if self.first:
            if self.up_or_down < 0:
                x = self.sampling(x)
            return self.conv_s(x) if self.learned_shortcut else x
        if self.up_or_down > 0:
            x = self.sampling(x)
        if self.learned_shortcut:
            x = self.conv_s(x)
        if self.up_or_down < 0:
            x = self.sampling(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        """(B,fin,H,W) -> (B,fout,H',W') with H' = 2H (up), H/2 (down) or H."""
        dx = self.conv2(self.conv1(x))
        if self.up_or_down < 0:
            dx = self.sampling(dx)
        return self.shortcut(x) + dx


@MODELS.register_module()
class OASISDiscriminator(nn.Module):
    """OASIS segmentation discriminator with the iPOSE global head.

    An encoder of 6 down blocks (channels ``[3, c, c, 2c, 2c, 4c, 4c]``, c = 128 in the
    reference) and a decoder of 6 up blocks with skip connections predict, per pixel, one of
    the C semantic classes or "fake" (class 0): (B, C+1, H, W). iPOSE adds ``conv_g``, a plain
    3x3 conv on the 4th encoder feature (256 ch at H/16 x W/16), as an image-level real/fake head.
    Module names follow the reference so its ``*_D.pth`` loads with ``strict=True``.

    Args:
        semantic_nc (int): Number of semantic classes C (don't-care included).
        base_channels (int): c; 128 in the reference, smaller for toy configs.
        use_global_head (bool): Build ``conv_g`` and return global logits.
        num_res_blocks (int): Encoder / decoder depth (6; the input size must be divisible by
            ``2**num_res_blocks``).
        init_gain (float): Gain of the reference's xavier-normal initialisation.
    """

    def __init__(self,
                 semantic_nc: int,
                 base_channels: int = 128,
                 use_global_head: bool = True,
                 num_res_blocks: int = 6,
                 init_gain: float = 0.02):
        super().__init__()
        if num_res_blocks != 6:
            raise ValueError(f'OASISDiscriminator: num_res_blocks must be 6, got {num_res_blocks}')
        c = base_channels
        self.channels: List[int] = [3, c, c, 2 * c, 2 * c, 4 * c, 4 * c]
        ch = self.channels
        self.body_down = nn.ModuleList(
            OASISResBlockD(ch[i], ch[i + 1], -1, first=(i == 0)) for i in range(num_res_blocks))
        up = [OASISResBlockD(ch[-1], ch[-2], 1)]
        up += [OASISResBlockD(2 * ch[-1 - i], ch[-2 - i], 1) for i in range(1, num_res_blocks - 1)]
        up.append(OASISResBlockD(2 * ch[1], c // 2, 1))
        self.body_up = nn.ModuleList(up)
        self.layer_up_last = nn.Conv2d(c // 2, semantic_nc + 1, 1, 1, 0)
        self.use_global_head = use_global_head
        if use_global_head:
            self.conv_g = nn.Conv2d(ch[4], 1, 3, 1, 1)
        self.apply(lambda m: init_gan_weights(m, init_gain))

    def forward(self, img: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """Classify every pixel as one of C classes or fake.

        Args:
            img (Tensor): (B,3,H,W) image in [-1,1], H and W divisible by 64.

        Returns:
            tuple: seg_logits (B,C+1,H,W); global_logits (B,1,H/16,W/16) or None.
        """
        if img.shape[-1] % 64 or img.shape[-2] % 64:
            raise ValueError('OASISDiscriminator: image height and width must be divisible by '
                             f'64 (6 down-sampling blocks), got {tuple(img.shape[-2:])}')
        x = img
        features: List[Tensor] = []
        for block in self.body_down:
            x = block(x)
            features.append(x)
        x = self.body_up[0](x)
        for i in range(1, len(self.body_down)):
            x = self.body_up[i](torch.cat((features[-i - 1], x), dim=1))
        seg_logits = self.layer_up_last(x)
        global_logits = self.conv_g(features[3]) if self.use_global_head else None
        return seg_logits, global_logits
