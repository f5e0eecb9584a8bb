from . import transforms  # noqa: F401
from .toy_scenes import ToySceneDataset  # noqa: F401
