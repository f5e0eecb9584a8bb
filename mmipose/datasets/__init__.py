from . import transforms  # noqa: F401
from .toy_scenes import ToySceneDataset  # noqa: F401
from .part_dataset import PartNetDataset  # noqa: F401
