from .ema_bn_refresh_hook import EMABNRefreshHook  # noqa: F401
from .visualization_hook import IPOSESampleGridHook  # noqa: F401
