from .cross_attention import PartCrossAttention, QuickGELU
from .inputs import (NUM_PARTS, build_query_rows, build_support_rows, coordinate_channels, part_index_to_onehot,
                     support_shapes)
from .object_parts import ObjectCrop, ObjectPartInferencer, crop_object_masks, plan_object_crop
from .part_encoder import DECODER_CHANNELS, ENCODER_CHANNELS, PartDecoder, PartShapeEncoder
from .partnet import PartNet, SupportEncoding
from .partnet_model import PartNetModel  # noqa: F401,E402  (after SupportBank: it builds one)
from .support_bank import SupportBank

__all__ = [
    'DECODER_CHANNELS', 'ENCODER_CHANNELS', 'NUM_PARTS', 'crop_object_masks', 'ObjectCrop', 'ObjectPartInferencer',
    'plan_object_crop', 'PartCrossAttention', 'PartDecoder', 'PartNet', 'PartShapeEncoder', 'QuickGELU', 'SupportBank',
    'SupportEncoding', 'build_query_rows', 'build_support_rows', 'coordinate_channels', 'part_index_to_onehot',
    'support_shapes'
]
