from .oasis_discriminator import OASISDiscriminator, OASISResBlockD, init_gan_weights

__all__ = ['OASISDiscriminator', 'OASISResBlockD', 'init_gan_weights']
