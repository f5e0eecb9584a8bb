"""LabelMix (OASIS): mix real and fake by semantic regions; D must be consistent on the mix."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmipose.registry import MODELS


def labelmix_mask(label_onehot: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """Random binary mask that is constant on every semantic class of the batch.

    Each class gets a fair coin. The reference assigns the coins class by class in ascending
    order *in place*, so pixels of class 0 whose coin is 1 are then re-assigned the coin of
    class 1 (when class 1 is present): classes 0 and 1 can merge. That quirk is kept. The
    coins are drawn on the label's device in one call (the reference draws one CPU coin per
    present class), so the random stream differs but the distribution is the same.

    Args:
        label_onehot (Tensor): (B,C,H,W) one-hot label map.
        generator (torch.Generator, optional): RNG for the coins.

    Returns:
        Tensor: (B,1,H,W) float mask in {0, 1}.
    """
    target = label_onehot.argmax(dim=1, keepdim=True)
    num_classes = label_onehot.shape[1]
    coins = torch.randint(0, 2, (num_classes, ), generator=generator, device=label_onehot.device)
    if num_classes > 1:
        class1_present = (target == 1).any()
        merged = torch.where((coins[0] == 1) & class1_present, coins[1], coins[0])
        coins = torch.cat([merged.view(1), coins[1:]])
    return coins[target].float()


def generate_labelmix(label_onehot: Tensor, fake: Tensor, real: Tensor,
                      generator: Optional[torch.Generator] = None) -> Tuple[Tensor, Tensor]:
    """Mix real and fake images by class regions.

    Args:
        label_onehot (Tensor): (B,C,H,W) one-hot label map.
        fake (Tensor): (B,3,H,W) generated image.
        real (Tensor): (B,3,H,W) real image.
        generator (torch.Generator, optional): RNG for the class coins.

    Returns:
        tuple: mixed image (B,3,H,W) = M*real + (1-M)*fake, and the mask M (B,1,H,W).
    """
    mask = labelmix_mask(label_onehot, generator)
    return mask * real + (1 - mask) * fake, mask


@MODELS.register_module()
class LabelMixLoss(nn.Module):
    """LabelMix consistency: ``MSE(M*D(real) + (1-M)*D(fake), D(mixed))`` over all C+1 logits.

    Gradients flow through all three discriminator outputs, as in the reference.

    Args:
        loss_weight (float): Multiplier (lambda_labelmix is applied by the model).
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    @property
    def loss_name(self) -> str:
        return 'loss_labelmix'

    def forward(self, mask: Tensor, seg_mixed: Tensor, seg_fake: Tensor, seg_real: Tensor) -> Tensor:
        """Args: mask (B,1,H,W); seg_mixed, seg_fake, seg_real (B,C+1,H,W). Returns a scalar."""
        expected = mask * seg_real + (1 - mask) * seg_fake
        return self.loss_weight * F.mse_loss(expected, seg_mixed)
