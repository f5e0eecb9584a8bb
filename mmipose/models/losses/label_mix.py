"""LabelMix (OASIS): mix real and fake by semantic regions; D must be consistent on the mix."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmipose.registry import MODELS

from ..channel_argmax import channel_argmax


def labelmix_mask(label_onehot: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """Random binary mask that is constant on every semantic class of the batch.

    Like the reference, one fair coin is drawn per class *present* in the batch, in ascending
    class order, on the CPU (``torch.randint(0, 2, (1,))`` each), so with the same seed the mask
    equals the reference's. The reference assigns the coins class by class *in place*, so pixels
    of class 0 whose coin is 1 are then re-assigned the coin of class 1 (when class 1 is
    present): classes 0 and 1 can merge. That quirk is kept.

    Args:
        label_onehot (Tensor): (B,C,H,W) one-hot label map.
        generator (torch.Generator, optional): CPU RNG for the coins (default: torch's global one).

    Returns:
        Tensor: (B,1,H,W) float mask in {0, 1}.
    """
    target = channel_argmax(label_onehot, keepdim=True)
    present = torch.unique(target).cpu()  # sorted ascending
    # one draw per class, as the reference: identical to a single (n,) draw on the CPU generator
    coins = torch.randint(0, 2, (len(present), ), generator=generator)
    if len(present) > 1 and present[0] == 0 and present[1] == 1 and coins[0] == 1:
        coins[0] = coins[1]
    table = torch.zeros(label_onehot.shape[1], dtype=torch.float32)
    table[present] = coins.float()
    return table.to(target.device)[target]


def generate_labelmix(label_onehot: Tensor,
                      fake: Tensor,
                      real: Tensor,
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
