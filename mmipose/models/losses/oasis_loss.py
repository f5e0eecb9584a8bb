"""OASIS (N+1)-class segmentation adversarial loss with class balancing."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmipose.registry import MODELS

from ..channel_argmax import channel_argmax


def class_balance_weights(label_onehot: Tensor, contain_dontcare_label: bool = True) -> Tensor:
    """Per-pixel class-balancing weights of OASIS.

    With n_c the pixel count of class c over the batch and K the number of present classes,
    ``w_c = B*H*W / (K * n_c)``; the don't-care class 0 gets weight 0 (and does not count in K).

    Args:
        label_onehot (Tensor): (B,C,H,W) one-hot label map.
        contain_dontcare_label (bool): Whether class 0 is "don't care".

    Returns:
        Tensor: (B,H,W) weight map.
    """
    counts = label_onehot.sum(dim=(0, 2, 3))
    if contain_dontcare_label:
        counts = torch.cat([counts.new_zeros(1), counts[1:]])
    num_present = (counts > 0).sum().clamp(min=1)
    pixels = label_onehot.shape[0] * label_onehot.shape[2] * label_onehot.shape[3]
    coefficients = torch.where(counts > 0, pixels / (num_present * counts.clamp(min=1)), torch.zeros_like(counts))
    return coefficients[channel_argmax(label_onehot)]


@MODELS.register_module()
class OASISLoss(nn.Module):
    """N+1 cross-entropy of OASIS: real pixels must be their class, fake pixels class 0.

    Real targets (``for_real=True``: D on real images, G on fakes) are ``class + 1`` and the
    per-pixel cross-entropy is weighted by :func:`class_balance_weights`; fake targets are 0
    with a plain mean.

    Args:
        contain_dontcare_label (bool): Class 0 of the label map is "don't care" (weight 0).
        loss_weight (float): Multiplier of the loss.
    """

    def __init__(self, contain_dontcare_label: bool = True, loss_weight: float = 1.0):
        super().__init__()
        self.contain_dontcare_label = contain_dontcare_label
        self.loss_weight = loss_weight

    @property
    def loss_name(self) -> str:
        return 'loss_oasis'

    def forward(self, logits: Tensor, label_onehot: Tensor, for_real: bool) -> Tensor:
        """N+1 loss.

        Args:
            logits (Tensor): (B,C+1,H,W) discriminator segmentation logits.
            label_onehot (Tensor): (B,C,H,W) one-hot label map.
            for_real (bool): Targets are the classes (True) or "fake" (False).

        Returns:
            Tensor: scalar loss.
        """
        if logits.shape[1] != label_onehot.shape[1] + 1:
            raise ValueError(f'OASISLoss: logits have {logits.shape[1]} channels, expected '
                             f'C+1 = {label_onehot.shape[1] + 1} for a {label_onehot.shape[1]}'
                             '-class label map')
        if for_real:
            target = channel_argmax(label_onehot) + 1
            pixel_loss = F.cross_entropy(logits, target, reduction='none')
            weights = class_balance_weights(label_onehot, self.contain_dontcare_label)
            loss = (pixel_loss * weights).mean()
        else:
            target = torch.zeros(logits.shape[0], *logits.shape[2:], dtype=torch.long, device=logits.device)
            loss = F.cross_entropy(logits, target)
        return self.loss_weight * loss
