from mmipose.utils.checkpoint import allow_mmengine_checkpoints

from . import hooks, optim_wrappers, runner  # noqa: F401

# MMEngine checkpoints (resume / load_from) under torch >= 2.6's weights_only=True default.
allow_mmengine_checkpoints()
