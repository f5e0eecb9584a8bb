"""What an entry point (a tool, the demo) sets up for its process, explicitly, once."""
from typing import Union

import torch

from mmipose.utils.checkpoint import allow_mmengine_checkpoints
from mmipose.utils.precision import set_flush_denormal


def setup_entry_point(device: Union[str, torch.device] = 'cpu', flush_denormals: bool = True) -> None:
    """Process-wide settings of an mmipose entry point; library code never calls this.

    - the weights-only allow-list of MMEngine checkpoints (resume / ``load_from`` under torch's
      ``weights_only=True`` default), see :func:`mmipose.utils.checkpoint.allow_mmengine_checkpoints`;
    - on a CPU, denormal floats flushed to zero (:func:`mmipose.utils.precision.set_flush_denormal`),
      unless ``flush_denormals`` is False (the tools' ``--keep-denormals``).

    Args:
        device (str | torch.device): where the run computes.
        flush_denormals (bool): flush denormals when ``device`` is a CPU.
    """
    allow_mmengine_checkpoints()
    if flush_denormals and torch.device(device).type == 'cpu':
        set_flush_denormal(True)
