from .cpu_autocast_optim_wrapper import CPUAutocastOptimWrapper  # noqa: F401
