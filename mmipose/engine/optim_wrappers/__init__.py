from .cpu_autocast_optim_wrapper import CPUAutocastOptimWrapper  # noqa: F401
from .nan_skip_optim_wrapper import NaNSkipOptimWrapper, grads_finite  # noqa: F401
