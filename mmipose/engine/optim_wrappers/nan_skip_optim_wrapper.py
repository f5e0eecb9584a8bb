"""``NaNSkipOptimWrapper``: an ``OptimWrapper`` that skips steps whose gradients are NaN/Inf."""
import torch
from mmagic.registry import OPTIM_WRAPPERS
from mmengine.optim import OptimWrapper


def grads_finite(optim_wrapper: OptimWrapper) -> bool:
    """Whether every gradient of the wrapper's parameters is finite (one host sync).

    The max-abs norm of all gradients (foreach kernels) is finite exactly when every entry is:
    unlike the L2 norm it cannot overflow on large finite gradients, and NaN propagates.
    """
    grads = [p.grad for group in optim_wrapper.param_groups for p in group['params'] if p.grad is not None]
    if not grads:
        return True
    if hasattr(torch.nn.utils, 'get_total_norm'):  # torch >= 2.6
        return bool(torch.isfinite(torch.nn.utils.get_total_norm(grads, float('inf'))))
    device = grads[0].device
    return bool(torch.stack([torch.isfinite(g).all().to(device) for g in grads]).all())


@OPTIM_WRAPPERS.register_module()
class NaNSkipOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose :meth:`step` is skipped when any gradient is non-finite.

    The gradients are then zeroed, so NaN/Inf never reaches the parameters, the optimizer moments
    or an EMA computed from the parameters. DDP has all-reduced the gradients before the step,
    so every rank takes the same decision. ``skipped_steps`` counts the skips;
    :class:`~mmipose.engine.hooks.NaNGuardHook` reads it to stop or skip the iteration and to log.
    fp16 ``AmpOptimWrapper`` needs no such guard: its ``GradScaler`` skips overflowing steps.

    Args:
        *args, **kwargs: ``OptimWrapper`` arguments.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.skipped_steps = 0

    def step(self, **kwargs) -> None:
        if grads_finite(self):
            super().step(**kwargs)
            return
        self.skipped_steps += 1
        self.zero_grad()
