from .oasis_discriminator import OASISDiscriminator, OASISResBlockD

__all__ = ['OASISDiscriminator', 'OASISResBlockD']
