from .atomic_checkpoint_hook import AtomicCheckpointHook, NonFiniteCheckpointError  # noqa: F401
from .ema_bn_refresh_hook import EMABNRefreshHook  # noqa: F401
from .keep_test_metrics_hook import KeepTestMetricsHook  # noqa: F401
from .nan_guard_hook import NaNGuardHook, NonFiniteLossError  # noqa: F401
from .part_cache_warmup_hook import PartCacheWarmupHook  # noqa: F401
from .progress_bar_hook import ProgressBarHook  # noqa: F401
from .save_outputs_hook import IPOSESaveOutputsHook  # noqa: F401
from .scene_miou_curve_hook import SceneMIoUCurveHook  # noqa: F401
from .visualization_hook import IPOSESampleGridHook  # noqa: F401
