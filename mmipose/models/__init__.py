from . import discriminators, editors, generators, losses, partnet  # noqa: F401
from .averaged_model import DeviceSafeEMA  # noqa: F401
