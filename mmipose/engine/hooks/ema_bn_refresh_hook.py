"""Refresh the normalisation statistics of the EMA generator on training batches."""
import itertools
from typing import Iterable, Optional, Sequence

import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.utils.data import DataLoader

from mmipose.registry import HOOKS


@HOOKS.register_module()
class EMABNRefreshHook(Hook):
    """Re-estimate the EMA generator's BatchNorm running statistics on training batches.

    The EMA generator's BN running statistics are an average of the training generator's statistics,
    which do not match the averaged weights. Like the reference (OASIS / iPOSE ``update_EMA``), every
    ``interval`` iterations, before validation and after training, this hook runs the EMA generator in
    **train mode under no_grad** on ``num_batches`` training batches: with BN momentum 0.1 the old
    statistics keep a weight of ``0.9**51 ≈ 0.5%``. Spectral-norm ``u``/``v`` vectors are refreshed by
    the same forwards (one power iteration per train-mode call). Afterwards the EMA generator goes
    back to the mode it was in (eval during validation).

    The model (unwrapped from DDP) must implement ``refresh_ema_norm_stats(batches) -> int``; see
    :meth:`mmipose.models.editors.IPOSE.refresh_ema_norm_stats`.

    Timing differs by one iteration from the reference: the reference refreshes when its 0-based
    ``cur_iter % k == 0`` (after its 1st, 1001st, ... step); this hook follows MMEngine's
    ``every_n_train_iters`` (after the 1000th, 2000th, ... step), so the refreshed statistics are
    the ones saved by a CheckpointHook with the same interval (this hook's priority runs before it).

    Data source: the refresh never touches the training loop's iterator. With
    ``persistent_workers=True`` ``iter(train_dataloader)`` would reset and return the loop's own
    iterator, so a refresh would restart or swallow the training stream. Instead each refresh
    builds a separate, non-persistent ``DataLoader`` over the same dataset, collate function,
    batch size and worker settings, reading ``num_batches`` batches of a random permutation seeded
    by the run's seed and ``completed_iters`` (each rank takes its own ``rank::world_size`` share).
    The training batches are therefore exactly those of a run without this hook, and the
    refresh batches are reproducible, also after a resume. Its worker seeds come from a private
    generator, so the global RNGs are not consumed for them. A training "dataloader" that is not a
    ``torch.utils.data.DataLoader`` (a list in tests) is read from its start.

    Args:
        interval (int): Refresh every ``interval`` training iterations; ``<= 0`` disables the
            periodic refresh. Defaults to 1000 (the reference's ``freq_print``).
        num_batches (int): Training batches per refresh. Defaults to 51 (the reference's value).
        refresh_before_val (bool): Refresh before each validation during training (the reference
            always refreshes before its FID evaluation). Skipped when the statistics are already
            fresh for the current iteration. Defaults to True.
        refresh_after_train (bool): Refresh once after training ends. Defaults to True.
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW): checkpoints hold refreshed statistics

    def __init__(self,
                 interval: int = 1000,
                 num_batches: int = 51,
                 refresh_before_val: bool = True,
                 refresh_after_train: bool = True) -> None:
        if num_batches < 1:
            raise ValueError(f'EMABNRefreshHook: num_batches must be >= 1, got {num_batches}')
        self.interval = interval
        self.num_batches = num_batches
        self.refresh_before_val = refresh_before_val
        self.refresh_after_train = refresh_after_train
        self._last_refresh_iter: Optional[int] = None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[Sequence[dict]] = None,
                         outputs: Optional[dict] = None) -> None:
        if self.interval > 0 and self.every_n_train_iters(runner, self.interval):
            # `runner.iter` is still the 0-based index of the iteration that just finished.
            self.refresh(runner, completed_iters=runner.iter + 1)

    def before_val(self, runner) -> None:
        # Only during training: a stand-alone val/test run evaluates the loaded checkpoint as saved.
        if not self.refresh_before_val or not _is_training_run(runner):
            return
        # Between iterations `runner.iter` counts the completed iterations.
        if self._last_refresh_iter != runner.iter:
            self.refresh(runner, completed_iters=runner.iter)

    def after_train(self, runner) -> None:
        if self.refresh_after_train and self._last_refresh_iter != runner.iter:
            self.refresh(runner, completed_iters=runner.iter)

    def refresh(self, runner, completed_iters: int) -> None:
        """Run the refresh now on batches of ``runner.train_dataloader``'s dataset.

        Args:
            runner: The MMEngine runner.
            completed_iters (int): Training iterations completed so far (for the log and to skip a
                second refresh of the same state).
        """
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'refresh_ema_norm_stats'):
            raise TypeError(f'EMABNRefreshHook: model {type(model).__name__} has no '
                            '`refresh_ema_norm_stats(batches)` method; use it with an IPOSE model.')
        batches = itertools.islice(self._refresh_batches(runner, completed_iters), self.num_batches)
        used = model.refresh_ema_norm_stats(batches)
        self._last_refresh_iter = completed_iters
        runner.logger.info(f'EMABNRefreshHook: refreshed EMA generator statistics on {used} '
                           f'training batches after {completed_iters} iterations.')

    def _refresh_batches(self, runner, completed_iters: int) -> Iterable:
        """Batches for one refresh, from a loader separate from the training loop's iterator."""
        train_loader = runner.train_dataloader
        if not isinstance(train_loader, DataLoader):
            return iter(train_loader)
        batch_size = train_loader.batch_size
        if batch_size is None:  # a custom batch_sampler
            batch_size = getattr(train_loader.batch_sampler, 'batch_size', 1)
        rank, world_size = get_dist_info()
        seed = (getattr(runner, 'seed', None) or 0) + completed_iters
        perm = torch.randperm(len(train_loader.dataset), generator=torch.Generator().manual_seed(seed))
        indices = perm[rank::world_size][:self.num_batches * batch_size].tolist()
        return iter(
            DataLoader(
                train_loader.dataset,
                batch_size=batch_size,
                sampler=indices,
                num_workers=train_loader.num_workers,
                collate_fn=train_loader.collate_fn,
                pin_memory=train_loader.pin_memory,
                drop_last=train_loader.drop_last,
                worker_init_fn=train_loader.worker_init_fn,
                multiprocessing_context=train_loader.multiprocessing_context,
                generator=torch.Generator().manual_seed(seed + 7919 * rank),
                persistent_workers=False))


def _is_training_run(runner) -> bool:
    """True when the runner was built with a training loop (not a test/val-only run)."""
    train_loop = getattr(runner, '_train_loop', None)
    return train_loop is not None and not isinstance(train_loop, dict)
