from .ipose import IPOSE
from .ipose_losses import IPOSELosses

__all__ = ['IPOSE', 'IPOSELosses']
