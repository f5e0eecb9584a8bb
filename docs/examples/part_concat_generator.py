"""A user's own generator that takes mmipose's inferred part maps (docs/reuse_in_your_config.md).

Not part of mmipose: it stands for code in your project. It registers into MMagic's MODELS (the
registry mmipose uses too), so a config that lists this module in ``custom_imports`` can build it.
"""
from typing import Optional

import torch
import torch.nn as nn
from mmagic.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class PartConcatGenerator(nn.Module):
    """A small convolutional generator: [label one-hot, part probabilities, noise] -> image.

    It follows the generator interface of mmipose's ``IPOSE`` model, so it can replace
    ``PSMGenerator`` there while ``ObjectPartInferencer`` (PartNet + supports), the
    ``OASISDiscriminator`` and the ``OASISLoss`` stay as they are.

    Args:
        semantic_nc (int): Label classes C.
        num_parts (int): Part channels of PartNet's logits (9).
        z_dim (int): Global noise channels, broadcast over the image.
        channels (int): Width of the hidden layers.
    """

    def __init__(self, semantic_nc: int, num_parts: int = 9, z_dim: int = 8, channels: int = 32):
        super().__init__()
        self.num_parts = num_parts
        self.z_dim = z_dim
        in_channels = semantic_nc + num_parts + z_dim
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 3, 3, padding=1), nn.Tanh())

    def forward(self,
                onehot: Tensor,
                part_features: Optional[Tensor] = None,
                part_logits: Optional[Tensor] = None,
                z: Optional[Tensor] = None,
                z_part: Optional[Tensor] = None) -> Tensor:
        """Synthesise an image.

        Args:
            onehot (Tensor): (B,C,H,W) one-hot label map.
            part_features (Tensor, optional): (B,288,H,W) PartNet features (unused here).
            part_logits (Tensor, optional): (B,num_parts,H,W) PartNet logits, zero outside objects.
            z (Tensor, optional): (B,z_dim) noise; sampled if None.
            z_part (Tensor, optional): unused (no part noise in this generator).

        Returns:
            Tensor: (B,3,H,W) image in [-1,1].
        """
        b, _, h, w = onehot.shape
        if part_logits is None:
            parts = onehot.new_zeros(b, self.num_parts, h, w)
        else:
            inside = (part_logits != 0).any(dim=1, keepdim=True)  # object pixels
            parts = part_logits.softmax(dim=1) * inside
        if z is None:
            z = torch.randn(b, self.z_dim, device=onehot.device, dtype=onehot.dtype)
        noise = z[:, :, None, None].expand(b, self.z_dim, h, w)
        return self.body(torch.cat([onehot, parts, noise], dim=1))
