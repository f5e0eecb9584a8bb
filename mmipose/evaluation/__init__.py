from .ipose_fid import IPOSEFID  # noqa: F401
from .object_fid import ObjectFID  # noqa: F401
from .part_accuracy import PartAccuracy  # noqa: F401
from .segmentation_metric import SegmentationMetric  # noqa: F401
