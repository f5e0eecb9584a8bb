"""bfloat16 mixed precision on CPU: ``CPUAutocastOptimWrapper`` (what ``--amp`` uses without CUDA)."""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmagic.registry import OPTIM_WRAPPERS

from .nan_skip_optim_wrapper import NaNSkipOptimWrapper


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(NaNSkipOptimWrapper):
    """``OptimWrapper`` whose forward context is ``torch.autocast('cpu', dtype=torch.bfloat16)``.

    MMEngine's ``AmpOptimWrapper`` asserts CUDA (or NPU/MLU) at construction, so ``--amp`` on a
    CPU-only machine uses this instead. bfloat16 has float32's exponent range, so no loss
    scaling is needed; parameters, gradients and optimizer states stay float32 (autocast only
    lowers the precision of matmuls/convolutions inside :meth:`optim_context`). Without a loss
    scaler nothing else skips non-finite steps, so it keeps :class:`NaNSkipOptimWrapper`'s guard
    (``--amp`` replaces the configured wrapper type by this one).

    Args:
        dtype (str | torch.dtype): Only bfloat16 is supported by CPU autocast.
        **kwargs: ``OptimWrapper`` arguments.
    """

    def __init__(self, *args, dtype='bfloat16', **kwargs):
        super().__init__(*args, **kwargs)
        dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        if dtype != torch.bfloat16:
            raise ValueError(f'CPUAutocastOptimWrapper: CPU autocast supports only bfloat16, '
                             f'got {dtype}')
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield
