from .ipose import IPOSE

__all__ = ['IPOSE']
