from .image_loading import ImageDecodeError, LoadImageChecked  # noqa: F401
from .label_transforms import CheckLabelRange, InstanceClassFromId, ShiftLabel, SplitADE20KInstance  # noqa: F401
from .map_checks import CastMaps, CheckMapSizes  # noqa: F401
from .object_transforms import ComputeObjectBoxes  # noqa: F401
from .part_transforms import LoadPartPair, PackPartInputs, RandomPartAugment, ResizePartPair  # noqa: F401
from .pil_resize import PILResize, pil_resize  # noqa: F401
from .spade_transforms import EncodeSpadeInstances  # noqa: F401
