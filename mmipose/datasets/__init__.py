from . import samplers, transforms  # noqa: F401
from .ade20k import IPOSEADE20KDataset  # noqa: F401
from .cityscapes import IPOSECityscapesDataset  # noqa: F401
from .coco_stuff import IPOSECocoStuffDataset  # noqa: F401
from .part_dataset import PartNetDataset  # noqa: F401
from .semantic_base import IPOSESemanticDataset  # noqa: F401
from .toy.dataset import ToySceneDataset  # noqa: F401
