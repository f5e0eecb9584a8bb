from .normalization import SPADE, PartModulation, parameter_free_norm
from .psm_block import PSMResBlock
from .psm_generator import PART_INJECTIONS, PSMGenerator

__all__ = ['SPADE', 'PartModulation', 'parameter_free_norm', 'PSMResBlock', 'PART_INJECTIONS', 'PSMGenerator']
