"""The iPOSE objective: which losses, their weights, and how G and D terms are assembled."""
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn
from torch import Tensor

from mmipose.registry import MODELS


def _build(cfg):
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)


class IPOSELosses(nn.Module):
    """Loss terms of iPOSE (reference ``models_ipose.py`` ``losses_G`` / ``losses_D``).

    G: ``L_G = L_G^{N+1} + lambda_global * L_G^global + lambda_style * L_style`` (paper eq. 7).
    D: ``L_D = L_D^{N+1}(fake) + L_D^{N+1}(real) + lambda_global * L_D^global
    + lambda_labelmix * L_labelmix`` (eq. 8).

    Args:
        nplus1_loss (dict | nn.Module): OASIS (N+1)-class loss, ``forward(logits, onehot,
            for_real)``; class-balanced for real targets.
        labelmix_loss (dict | nn.Module | None): LabelMix consistency loss; None disables it.
        lambda_labelmix (float): LabelMix weight (reference: 5 Cityscapes, 10 ADE20K/COCO).
        global_gan_loss (dict | nn.Module | None): Image-level loss on the discriminator's global
            head (reference: hinge). None disables it (OASIS baseline, no global head).
        lambda_global (float): Global adversarial weight (1).
        global_warmup_iters (int): Ramp the global weight linearly from 0 to ``lambda_global``
            over the first iterations (``lambda_global * min(1, step / global_warmup_iters)``, for
            G and D alike). 0 (default, the reference): full weight from the start. Short runs
            (the toy demo) use it: the image-level head learns in a few steps, the per-pixel
            N+1 head needs more, and until it does the global loss alone pulls G towards the
            average layout whatever the label says.
        style_loss (dict | nn.Module | None): CLIP style loss; None disables it. Frozen here.
        lambda_style (float): Style-loss weight (10).
        style_mode_seed (int): Seed of the per-step whole-image / object-crop choice. The
            reference draws it per GPU with ``random.sample``; here it is a function of
            (global step, seed), identical on every rank (see docs/reference_differences.md).
    """

    def __init__(self,
                 nplus1_loss: Optional[dict] = None,
                 labelmix_loss: Optional[dict] = None,
                 lambda_labelmix: float = 10.0,
                 global_gan_loss: Optional[dict] = None,
                 lambda_global: float = 1.0,
                 global_warmup_iters: int = 0,
                 style_loss: Optional[dict] = None,
                 lambda_style: float = 10.0,
                 style_mode_seed: int = 0):
        super().__init__()
        if nplus1_loss is None:
            raise ValueError("IPOSE loss_config needs 'nplus1_loss' (e.g. dict(type='OASISLoss'))")
        self.nplus1_loss = _build(nplus1_loss)
        self.labelmix_loss = _build(labelmix_loss)
        self.global_gan_loss = _build(global_gan_loss)
        self.style_loss = _build(style_loss)
        if self.style_loss is not None:
            self.style_loss.requires_grad_(False)  # CLIP is a fixed feature extractor
            # CLIP (~88M weights) is loaded from its own file: keep it out of iPOSE checkpoints.
            self.register_state_dict_post_hook(_drop_style_loss_state)
            self.register_load_state_dict_post_hook(_ignore_missing_style_loss)
        self.lambda_labelmix = float(lambda_labelmix)
        self.lambda_global = float(lambda_global)
        if global_warmup_iters < 0:
            raise ValueError(f'IPOSELosses: global_warmup_iters must be >= 0, got {global_warmup_iters}')
        self.global_warmup_iters = int(global_warmup_iters)
        self.lambda_style = float(lambda_style)
        self.style_mode_seed = int(style_mode_seed)

    def global_weight(self, step: int) -> float:
        """Weight of the global adversarial terms at global step ``step`` (0-based)."""
        if self.global_warmup_iters <= 0:
            return self.lambda_global
        return self.lambda_global * min(1.0, step / self.global_warmup_iters)

    def style_mode(self, step: int) -> str:
        """'whole' or 'objects' for this global step (same on every rank)."""
        from mmipose.models.losses import choose_clip_mode
        return choose_clip_mode(step, self.style_mode_seed)

    def generator_losses(self, seg_logits: Tensor, global_logits: Optional[Tensor], onehot: Tensor, fake: Tensor,
                         real: Tensor, objects: List[Tensor], step: int) -> Dict[str, Tensor]:
        """G terms on D's outputs for the fake (B,C+1,H,W) / (B,1,h,w) and the CLIP style loss."""
        losses = {'loss_g_adv': self.nplus1_loss(seg_logits, onehot, for_real=True)}
        if self.global_gan_loss is not None:
            _require_global(global_logits)
            losses['loss_g_global'] = self.global_weight(step) * self.global_gan_loss(
                global_logits, target_is_real=True, is_disc=False)
        if self.style_loss is not None:
            losses['loss_g_style'] = self.lambda_style * self.style_loss(
                fake, real, objects=objects, mode=self.style_mode(step))
        return losses

    @property
    def num_d_passes(self) -> int:
        """Discriminator passes of a D step: fake, real and (with LabelMix) the mixed image."""
        return 3 if self._use_labelmix else 2

    @property
    def _use_labelmix(self) -> bool:
        return self.labelmix_loss is not None and self.lambda_labelmix > 0

    def discriminator_losses(self,
                             discriminator: Callable,
                             fake: Tensor,
                             real: Tensor,
                             onehot: Tensor,
                             batched: bool = False,
                             step: int = 0) -> Dict[str, Tensor]:
        """D terms on fake (B,3,H,W), real (B,3,H,W) and the LabelMix image (``step``: the
        global step, for :meth:`global_weight`).

        ``batched=False`` calls ``discriminator`` on fake, real, then the LabelMix image (the
        reference's order); ``batched=True`` calls it once on the three concatenated along the
        batch. The LabelMix coins are drawn before the D calls in both cases (D draws no random
        numbers, so the stream is the reference's).
        """
        mixed = mask = None
        if self._use_labelmix:
            from mmipose.models.losses import generate_labelmix
            mixed, mask = generate_labelmix(onehot, fake, real)
        if batched:
            images = [fake, real] + ([mixed] if mixed is not None else [])
            seg, glob = discriminator(torch.cat(images))
            seg_fake, seg_real, *seg_mixed = seg.split(fake.shape[0])
            global_fake, global_real = (None, None) if glob is None else glob.split(fake.shape[0])[:2]
            seg_mixed = seg_mixed[0] if seg_mixed else None
        else:
            seg_fake, global_fake = discriminator(fake)
            seg_real, global_real = discriminator(real)
            seg_mixed = discriminator(mixed)[0] if mixed is not None else None
        losses = {
            'loss_d_fake': self.nplus1_loss(seg_fake, onehot, for_real=False),
            'loss_d_real': self.nplus1_loss(seg_real, onehot, for_real=True),
        }
        if self.global_gan_loss is not None:
            _require_global(global_fake)
            global_weight = self.global_weight(step)
            losses['loss_d_global_fake'] = global_weight * self.global_gan_loss(
                global_fake, target_is_real=False, is_disc=True)
            losses['loss_d_global_real'] = global_weight * self.global_gan_loss(
                global_real, target_is_real=True, is_disc=True)
        if seg_mixed is not None:
            losses['loss_d_labelmix'] = self.lambda_labelmix * self.labelmix_loss(mask, seg_mixed, seg_fake, seg_real)
        return losses


def _drop_style_loss_state(module, state_dict, prefix, local_metadata):
    for key in [k for k in state_dict if k.startswith(prefix + 'style_loss.')]:
        del state_dict[key]


def _ignore_missing_style_loss(module, incompatible_keys):
    missing = incompatible_keys.missing_keys
    missing[:] = [k for k in missing if 'style_loss.' not in k]


def _require_global(global_logits: Optional[Tensor]) -> None:
    if global_logits is None:
        raise ValueError('IPOSE: loss_config has a global_gan_loss but the discriminator returns '
                         'no global logits; enable its global head or set global_gan_loss=None.')
