from . import hooks, optim_wrappers, runner  # noqa: F401
