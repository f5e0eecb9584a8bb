"""Stop or skip training iterations with NaN/Inf losses or skipped optimizer steps: ``NaNGuardHook``."""
import math
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.dist import all_reduce, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict

from mmipose.engine.optim_wrappers import NaNSkipOptimWrapper
from mmipose.registry import HOOKS


class NonFiniteLossError(RuntimeError):
    """Raised by :class:`NaNGuardHook` when training must stop on NaN/Inf."""


def _is_finite(value) -> bool:
    if torch.is_tensor(value):
        return bool(torch.isfinite(value.detach()).all())
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    return True


def _describe(value) -> str:
    if torch.is_tensor(value):
        return str(value.item()) if value.numel() == 1 else f'tensor{tuple(value.shape)} with NaN/Inf'
    return str(value)


@HOOKS.register_module()
class NaNGuardHook(Hook):
    """Guard training against NaN/Inf losses and gradients.

    Optimizer steps with non-finite gradients are skipped by the optimizer wrappers themselves
    (:class:`~mmipose.engine.optim_wrappers.NaNSkipOptimWrapper`, the type of the iPOSE configs'
    generator and discriminator wrappers; fp16 ``AmpOptimWrapper``'s ``GradScaler`` skips them
    too). At the start of training this hook warns about any wrapper without such a guard.
    After every iteration it checks the logged losses (``outputs`` of ``train_step``, all keys
    or those in ``keys``) and whether a wrapper skipped a step in this iteration:

    - ``action='stop'``: raise :class:`NonFiniteLossError` naming the losses, their values and
      the (1-based) iteration;
    - ``action='skip'``: log a warning, restore the buffers (BatchNorm running statistics and
      counters, spectral-norm vectors) saved before the iteration, and go on; stop after
      ``max_consecutive_skips`` bad iterations in a row.

    In distributed runs the bad/good decision is all-reduced, so every rank acts alike. Its
    priority ('ABOVE_NORMAL') runs it before the checkpoint hook of the same iteration;
    :class:`AtomicCheckpointHook` additionally refuses to save non-finite states.

    Args:
        action (str): 'stop' or 'skip'. Defaults to 'stop'.
        keys (Sequence[str], optional): Loss names to check; None checks every logged value.
        max_consecutive_skips (int): With 'skip', stop after this many bad iterations in a
            row. Defaults to 10.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, action: str = 'stop', keys: Optional[Sequence[str]] = None, max_consecutive_skips: int = 10):
        if action not in ('stop', 'skip'):
            raise ValueError(f"NaNGuardHook: action must be 'stop' or 'skip', got {action!r}")
        self.action = action
        self.keys = list(keys) if keys is not None else None
        self.max_consecutive_skips = max_consecutive_skips
        self.consecutive_skips = 0
        self.total_skips = 0
        self._skipped_steps: List[str] = []
        self._guarded: Dict[str, NaNSkipOptimWrapper] = {}
        self._skips_before: Dict[str, int] = {}
        self._buffer_backup: Optional[Dict[str, torch.Tensor]] = None

    # ------------------------------------------------------------------ setup
    def before_train(self, runner) -> None:
        wrappers = runner.optim_wrapper
        named = (wrappers.items() if isinstance(wrappers, OptimWrapperDict) else [('optimizer', wrappers)])
        self._guarded = {}
        for name, wrapper in named:
            if isinstance(wrapper, NaNSkipOptimWrapper):
                self._guarded[name] = wrapper
            elif not (isinstance(wrapper, AmpOptimWrapper) and wrapper.loss_scaler is not None):
                runner.logger.warning(f'NaNGuardHook: optim_wrapper {name!r} is a {type(wrapper).__name__}, which '
                                      'applies non-finite gradients; set its type to NaNSkipOptimWrapper so such '
                                      'steps are skipped (only the losses are checked now).')

    def _model(self, runner) -> torch.nn.Module:
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    # ------------------------------------------------------------------ per iteration
    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._skips_before = {name: w.skipped_steps for name, w in self._guarded.items()}
        if self.action == 'skip':
            self._buffer_backup = {name: buf.detach().clone() for name, buf in self._model(runner).named_buffers()}

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        outputs = outputs or {}
        self._skipped_steps = [
            name for name, w in self._guarded.items()
            if w.skipped_steps > self._skips_before.get(name, w.skipped_steps)
        ]
        keys = self.keys if self.keys is not None else list(outputs)
        bad = {k: outputs[k] for k in keys if k in outputs and not _is_finite(outputs[k])}
        local_bad = float(bool(bad) or bool(self._skipped_steps))
        rank, world_size = get_dist_info()
        if world_size > 1:
            flag = torch.tensor([local_bad], device=next(self._model(runner).parameters()).device)
            all_reduce(flag, op='max')
            any_bad = bool(flag.item() > 0)
        else:
            any_bad = bool(local_bad)
        if not any_bad:
            self.consecutive_skips = 0
            return

        iteration = runner.iter + 1
        details = ', '.join(f'{k}={_describe(v)}' for k, v in bad.items()) or 'losses finite here'
        if self._skipped_steps:
            details += f'; non-finite gradients, optimizer step skipped for {self._skipped_steps}'
        if not bad and not self._skipped_steps:
            details = 'non-finite values on another rank'
        where = f' on rank {rank}' if world_size > 1 else ''
        if self.action == 'stop':
            raise NonFiniteLossError(f'NaNGuardHook: non-finite loss at iteration {iteration}{where}: {details}. '
                                     'Training stopped; the last checkpoint was saved before this iteration. Lower the '
                                     'learning rate, check this batch, or use NaNGuardHook(action="skip").')
        self.consecutive_skips += 1
        self.total_skips += 1
        if self._buffer_backup is not None:
            buffers = dict(self._model(runner).named_buffers())
            with torch.no_grad():
                for name, saved in self._buffer_backup.items():
                    buffers[name].copy_(saved)
        runner.logger.warning(f'NaNGuardHook: skipped iteration {iteration}{where}: {details} '
                              f'({self.consecutive_skips} in a row, {self.total_skips} in total).')
        runner.message_hub.update_info('nan_guard_skips', self.total_skips)
        if self.consecutive_skips >= self.max_consecutive_skips:
            raise NonFiniteLossError(f'NaNGuardHook: {self.consecutive_skips} consecutive iterations with non-finite '
                                     f'losses (last: iteration {iteration}{where}: {details}); giving up.')
