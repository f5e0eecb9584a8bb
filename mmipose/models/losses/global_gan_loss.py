"""Image-level adversarial loss on the discriminator's global head (iPOSE)."""
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmipose.registry import MODELS


@MODELS.register_module()
class GlobalGANLoss(nn.Module):
    """Adversarial loss for the global real/fake logits (B,1,h,w).

    ``loss_type='hinge'`` (the reference's code): D real ``mean(relu(1 - x))``, D fake
    ``mean(relu(1 + x))``, G ``-mean(x)``. ``loss_type='log'`` (the paper's Eq. 3-4):
    D real ``mean(softplus(-x))``, D fake ``mean(softplus(x))``, G ``mean(softplus(-x))``
    (non-saturating).

    Args:
        loss_type (str): 'hinge' or 'log'.
        loss_weight (float): Multiplier.
    """

    def __init__(self, loss_type: str = 'hinge', loss_weight: float = 1.0):
        super().__init__()
        if loss_type not in ('hinge', 'log'):
            raise ValueError(f"GlobalGANLoss: loss_type must be 'hinge' or 'log', got {loss_type!r}")
        self.loss_type = loss_type
        self.loss_weight = loss_weight

    @property
    def loss_name(self) -> str:
        return 'loss_global'

    def forward(self, logits: Tensor, target_is_real: bool, is_disc: bool) -> Tensor:
        """Args: logits (B,1,h,w); target_is_real; is_disc (D step or G step). Returns a scalar."""
        if not is_disc:
            if not target_is_real:
                raise ValueError('GlobalGANLoss: the generator loss needs target_is_real=True')
            loss = -logits.mean() if self.loss_type == 'hinge' else F.softplus(-logits).mean()
        elif self.loss_type == 'hinge':
            loss = F.relu(1 - logits).mean() if target_is_real else F.relu(1 + logits).mean()
        else:
            loss = F.softplus(-logits).mean() if target_is_real else F.softplus(logits).mean()
        return self.loss_weight * loss
