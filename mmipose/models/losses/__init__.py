from .clip_style_loss import CLIPStyleLoss, choose_clip_mode, crop_objects, remd_loss
from .global_gan_loss import GlobalGANLoss
from .ipose_losses import IPOSELosses
from .label_mix import LabelMixLoss, generate_labelmix, labelmix_mask
from .oasis_loss import OASISLoss, class_balance_weights

__all__ = [
    'CLIPStyleLoss', 'choose_clip_mode', 'crop_objects', 'remd_loss', 'GlobalGANLoss', 'IPOSELosses', 'LabelMixLoss',
    'generate_labelmix', 'labelmix_mask', 'OASISLoss', 'class_balance_weights'
]
