"""The iPOSE generator: OASIS with part semantic modulation (PSM) in every residual block."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmipose.registry import MODELS

from ..channel_argmax import channel_argmax
from ..weight_init import init_gan_weights
from .normalization import resize_nearest
from .psm_block import PSMResBlock

PART_INJECTIONS = ('psm', 'spade', 'concat', 'none')
#: residual blocks of the generator: the reference's depth (its checkpoints fix it)
NUM_RES_BLOCKS = 6


def _conv_in_lrelu(conv: nn.Module, channels: int) -> nn.Sequential:
    return nn.Sequential(conv, nn.InstanceNorm2d(channels), nn.LeakyReLU(0.2))


@MODELS.register_module()
class PSMGenerator(nn.Module):
    """OASIS generator whose blocks are modulated by the predicted part map (paper Sec. 3.2).

    Data flow (the authors' ``generator_ipose.OASIS_Generator``):
    part features (B,288,H,W) -> ``conv_part`` (32 ch); part noise (B,31,h0,w0) + the raw class
    index map -> ``mlp`` -> 32 ch, upsampled by ``conv_nos`` alongside x; ``seg = [z, one-hot]``
    (z first, 3D noise = z broadcast over H,W); ``x = fc(nearest(seg -> (h0,w0)))``; six
    :class:`PSMResBlock` with nearest x2 upsampling between them; ``tanh(conv_img(LReLU(x)))``.
    The part mask is ``argmax(part_logits) > 0`` (a part, not background, is predicted).

    The network is fully convolutional in the noise: ``z`` enters only through ``seg``, so it may
    be a (B,z_dim) vector (broadcast over H,W, as in training) or a spatial (B,z_dim,H,W) map
    ("3D noise"). A map filled with one vector gives the vector's output (up to float rounding: a
    vector is never expanded, the SPADEs take the cheaper path of
    :func:`~.normalization.conv3x3_with_constant_channels`); a map with new values inside a region
    re-draws that region (local multi-modal editing, paper Fig. 5).

    ``part_injection`` selects the paper's Table 3 variants: ``'psm'`` (iPOSE), ``'spade'`` (the
    reference's ``SPADEConcat`` in the part-norm slot of every block: a SPADE conditioned on the
    semantic map, the 3D noise and the 32-ch part features, then ``conv_p``; the block's own
    SPADEs keep the semantic map alone), ``'concat'`` (part features appended to every block's
    input; the reference has no code for it, this follows the paper's description) and
    ``'none'`` (plain OASIS generator).
    Module names follow the reference, so its generator weights load with ``strict=True``
    (the embedded PartNet lives in :class:`ObjectPartInferencer` here).

    Args:
        semantic_nc (int): Label channels C (don't-care included).
        channels_g (int): Width multiplier (64 in the reference: 1024..64 channels).
        z_dim (int): Global noise dimension (64).
        part_nc (int): Channels of the part features after ``conv_part`` and of the part noise (32).
        num_parts (int): Part channels of PartNet (9).
        partnet_feature_nc (int): PartNet decoder channels per part (32): part features have
            ``num_parts * partnet_feature_nc`` = 288 channels.
        part_injection (str): One of 'psm', 'spade', 'concat', 'none'.
        norm_type (str): 'bn' for the parameter-free batch norms (synchronized BN: the
            config's ``sync_bn = 'torch'``).
        spade_hidden_nc (int): Hidden width of the SPADE nets (128; smaller for toy configs).
        init_gain (float): Gain of the xavier-normal initialisation.
    """

    def __init__(self,
                 semantic_nc: int,
                 channels_g: int = 64,
                 z_dim: int = 64,
                 part_nc: int = 32,
                 num_parts: int = 9,
                 partnet_feature_nc: int = 32,
                 part_injection: str = 'psm',
                 norm_type: str = 'bn',
                 spade_hidden_nc: int = 128,
                 init_gain: float = 0.02):
        super().__init__()
        if part_injection not in PART_INJECTIONS:
            raise ValueError(f'PSMGenerator: part_injection must be one of {PART_INJECTIONS}, '
                             f'got {part_injection!r}')
        self.semantic_nc = semantic_nc
        self.z_dim = z_dim
        self.part_nc = part_nc
        self.num_res_blocks = NUM_RES_BLOCKS
        self.part_injection = part_injection
        ch = [16, 16, 16, 8, 4, 2, 1]
        self.channels: List[int] = [c * channels_g for c in ch]
        label_nc = z_dim + semantic_nc
        extra_in = part_nc if part_injection == 'concat' else 0

        if part_injection != 'none':
            self.conv_part = _conv_in_lrelu(nn.Conv2d(num_parts * partnet_feature_nc, part_nc, 3, padding=1), part_nc)
        if part_injection == 'psm':
            self.mlp = _conv_in_lrelu(nn.Conv2d(part_nc, part_nc, 3, padding=1), part_nc)
            # conv_nos[5] exists in the reference's state dict (kept for checkpoint parity) but is never used.
            self.conv_nos = nn.ModuleList(
                _conv_in_lrelu(nn.ConvTranspose2d(part_nc + (1 if i < 3 else 0), part_nc, 4, 2, 1), part_nc)
                for i in range(NUM_RES_BLOCKS))
        self.body = nn.ModuleList(
            PSMResBlock(
                self.channels[i] + extra_in,
                self.channels[i + 1],
                label_nc,
                part_norm=part_injection if part_injection in ('psm', 'spade') else None,
                part_nc=part_nc,
                norm_type=norm_type,
                spade_hidden_nc=spade_hidden_nc) for i in range(NUM_RES_BLOCKS))
        self.fc = nn.Conv2d(z_dim + semantic_nc, self.channels[0], 3, padding=1)
        self.conv_img = nn.Conv2d(self.channels[-1], 3, 3, padding=1)
        self.apply(lambda m: init_gan_weights(m, init_gain))
        if part_injection == 'psm':
            # frozen: DDP with find_unused_parameters=False needs every trainable parameter in the loss
            self.conv_nos[-1].requires_grad_(False)

    def latent_size(self, size: Tuple[int, int]) -> Tuple[int, int]:
        """(h0, w0) of the first feature map for an output of ``size`` (H/32, W/32)."""
        factor = 2**(self.num_res_blocks - 1)
        if size[0] % factor or size[1] % factor:
            raise ValueError(f'PSMGenerator: output size {tuple(size)} must be divisible by {factor}')
        return size[0] // factor, size[1] // factor

    def noise_map(self, z: Tensor, size: Tuple[int, int, int]) -> Tensor:
        """(B,z_dim) vector or (B,z_dim,H,W) map -> (B,z_dim,H,W) noise map for ``size`` = (B,H,W)."""
        b, h, w = size
        if z.dim() == 2 and tuple(z.shape) == (b, self.z_dim):
            return z.view(b, self.z_dim, 1, 1).expand(b, self.z_dim, h, w)
        if z.dim() == 4 and tuple(z.shape) == (b, self.z_dim, h, w):
            return z
        raise ValueError(f'PSMGenerator: z must be ({b}, {self.z_dim}) or a spatial map ({b}, {self.z_dim}, '
                         f'{h}, {w}) for this batch, got {tuple(z.shape)}')

    def forward(self,
                onehot: Tensor,
                part_features: Optional[Tensor] = None,
                part_logits: Optional[Tensor] = None,
                z: Optional[Tensor] = None,
                z_part: Optional[Tensor] = None) -> Tensor:
        """Synthesise an image from a label map and its inferred parts.

        Args:
            onehot (Tensor): (B,C,H,W) one-hot label map.
            part_features (Tensor, optional): (B,288,H,W) PartNet features (not needed for 'none').
            part_logits (Tensor, optional): (B,9,H,W) PartNet logits ('psm' only).
            z (Tensor, optional): (B,z_dim) global noise or a (B,z_dim,H,W) spatial noise map;
                sampled (a vector) if None.
            z_part (Tensor, optional): (B,part_nc-1,h0,w0) part noise ('psm'); sampled if None.
                When both are sampled, the part noise is drawn first (reference order).

        Returns:
            Tensor: (B,3,H,W) image in [-1,1].
        """
        b, _, h, w = onehot.shape
        h0, w0 = self.latent_size((h, w))
        needs_parts = self.part_injection != 'none'
        if needs_parts and part_features is None:
            raise ValueError(f"PSMGenerator(part_injection='{self.part_injection}') needs part_features")
        part_noise = mask = part = None
        if self.part_injection == 'psm':
            if part_logits is None:
                raise ValueError("PSMGenerator(part_injection='psm') needs part_logits")
            mask = (channel_argmax(part_logits, keepdim=True) > 0).to(onehot.dtype)
            semmap = channel_argmax(onehot, keepdim=True).to(onehot.dtype)  # raw class index
            if z_part is None:
                z_part = torch.randn(b, self.part_nc - 1, h0, w0, device=onehot.device, dtype=onehot.dtype)
            part_noise = self.mlp(torch.cat([z_part, resize_nearest(semmap, (h0, w0))], dim=1))
        if needs_parts:
            part = self.conv_part(part_features)
        if z is None:
            z = torch.randn(b, self.z_dim, device=onehot.device, dtype=onehot.dtype)
        noise = self.noise_map(z, (b, h, w))
        x = self.fc(resize_nearest(torch.cat([noise, onehot], dim=1), (h0, w0)))
        # the blocks' SPADEs take the noise apart: a vector is never expanded to a full-size map
        block_z = z if z.dim() == 2 else noise

        for i, block in enumerate(self.body):
            if self.part_injection == 'concat':
                x = torch.cat([x, resize_nearest(part, x.shape[-2:])], dim=1)
            x = block(x, onehot, part, part_noise, mask, z=block_z)
            if i < self.num_res_blocks - 1:
                x = F.interpolate(x, scale_factor=2, mode='nearest')
                if self.part_injection == 'psm':
                    if i < 3:
                        part_noise = torch.cat([part_noise, resize_nearest(semmap, part_noise.shape[-2:])], dim=1)
                    part_noise = self.conv_nos[i](part_noise)
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))
