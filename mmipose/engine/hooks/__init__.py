from .ema_bn_refresh_hook import EMABNRefreshHook  # noqa: F401
