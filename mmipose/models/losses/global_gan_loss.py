"""Image-level adversarial loss on the discriminator's global head (iPOSE)."""
from mmagic.models.losses import GANLoss
from torch import Tensor

from mmipose.registry import MODELS

#: ``loss_type`` -> MMagic ``gan_type``; 'log' is the paper's name for the log (BCE) loss.
_GAN_TYPES = {'hinge': 'hinge', 'vanilla': 'vanilla', 'log': 'vanilla'}


@MODELS.register_module()
class GlobalGANLoss(GANLoss):
    """MMagic's :class:`~mmagic.models.losses.GANLoss` on the global real/fake logits (B,1,h,w).

    ``loss_type='hinge'`` (the authors' code): D real ``mean(relu(1 - x))``, D fake
    ``mean(relu(1 + x))``, G ``-mean(x)``. ``loss_type='vanilla'`` (alias ``'log'``, the paper's
    Eq. 3-4): D real ``mean(softplus(-x))``, D fake ``mean(softplus(x))``, G ``mean(softplus(-x))``
    (non-saturating).

    Two differences from MMagic's loss: ``loss_weight`` scales the discriminator terms as well
    (MMagic applies it to the generator only), and the generator term must be asked for with
    ``target_is_real=True`` (anything else is a caller bug).

    Args:
        loss_type (str): 'hinge', 'vanilla' or 'log'.
        loss_weight (float): Multiplier of every term.
    """

    def __init__(self, loss_type: str = 'hinge', loss_weight: float = 1.0):
        if loss_type not in _GAN_TYPES:
            raise ValueError(f'GlobalGANLoss: loss_type must be one of {sorted(_GAN_TYPES)}, '
                             f'got {loss_type!r}')
        super().__init__(gan_type=_GAN_TYPES[loss_type], loss_weight=loss_weight)
        self.loss_type = loss_type

    @property
    def loss_name(self) -> str:
        return 'loss_global'

    def forward(self, logits: Tensor, target_is_real: bool, is_disc: bool) -> Tensor:
        """Args: logits (B,1,h,w); target_is_real; is_disc (D step or G step). Returns a scalar."""
        if not is_disc and not target_is_real:
            raise ValueError('GlobalGANLoss: the generator loss needs target_is_real=True')
        loss = super().forward(logits, target_is_real, is_disc=is_disc)
        return loss * self.loss_weight if is_disc else loss
