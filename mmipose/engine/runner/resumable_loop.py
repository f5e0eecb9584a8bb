"""An iteration-based training loop that resumes its data order without re-reading trained batches."""
import logging
from typing import Dict, List, Optional, Tuple, Union

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator
from torch.utils.data import DataLoader

from mmipose.datasets.samplers import ResumableInfiniteSampler
from mmipose.registry import LOOPS

#: message-hub key (saved in every checkpoint) of the data position at the start of this run
DATA_POSITION_KEY = 'resumable_data_position'


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(IterBasedTrainLoop):
    """MMEngine's ``IterBasedTrainLoop`` whose ``--resume`` skips trained samples without reading them.

    MMEngine's loop resumes at iteration ``i`` by drawing ``i`` batches from the dataloader and
    dropping them ("Advance dataloader i steps"): every trained image is decoded and augmented
    again. With a :class:`ResumableInfiniteSampler` this loop instead tells the sampler where the
    index stream continues (``set_start``) and builds a fresh dataloader iterator, so only the
    batches still to train (plus the workers' prefetch) are read. Given the same seed, world size
    and batch size, the batches after the resume are those of an uninterrupted run: the global
    position is ``i x batch_size x world_size``, from which each rank takes its own share.

    The position is recorded in the message hub (``DATA_POSITION_KEY``: iteration, global
    position, world size, batch size, sampler seed and dataset length at the start of this run),
    which every checkpoint saves. A resume computes the global number of samples trained from it,
    so a run resumed with another world size or batch size continues the global stream right after
    the last trained sample (each new rank takes every n-th index from there) and logs a warning:
    no sample is repeated or skipped, but the batches are not those of an uninterrupted run with
    either setting. A checkpoint without the record (e.g. written by ``IterBasedTrainLoop``) is
    taken to have the current world size and batch size, with a warning. The sampler seed of the
    checkpoint wins over the current one, so a run with ``randomness.seed=None`` also continues.

    With any other sampler the loop falls back to MMEngine's advance, with a warning.

    Args are those of ``IterBasedTrainLoop``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_iters: int,
                 val_begin: int = 1,
                 val_interval: int = 1000,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None) -> None:
        if isinstance(dataloader, dict):  # built here (as BaseLoop does) to pause its sampler
            diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
            dataloader = runner.build_dataloader(dataloader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
        sampler = _resumable_sampler(dataloader)
        if sampler is not None:  # MMEngine's first iterator (and its worker prefetch) reads nothing
            sampler.paused = True
        try:
            super().__init__(
                runner,
                dataloader,
                max_iters,
                val_begin=val_begin,
                val_interval=val_interval,
                dynamic_intervals=dynamic_intervals)
        finally:
            if sampler is not None:
                sampler.paused = False

    def run(self):
        """Launch training (``IterBasedTrainLoop.run`` with the advance replaced by a start offset)."""
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        self._start_data_stream()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0 or self._iter == self._max_iters)):
                self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def _start_data_stream(self) -> None:
        """Point the sampler at the first untrained sample and build the dataloader iterator."""
        sampler = _resumable_sampler(self.dataloader)
        if sampler is None:
            if self._iter > 0:
                print_log(
                    f'ResumableIterBasedTrainLoop: the sampler {type(self.dataloader.sampler).__name__} '
                    'cannot start part-way; use ResumableInfiniteSampler to resume without '
                    'reading the trained batches.',
                    logger='current',
                    level=logging.WARNING)
                for _ in range(self._iter):  # MMEngine's advance
                    next(self.dataloader_iterator)
            return
        now = dict(
            iter=self._iter,
            world_size=sampler.world_size,
            batch_size=self._batch_size(),
            seed=sampler.seed,
            dataset_size=sampler.size)
        now['start'] = self._global_start(sampler, now)
        sampler.set_start(now['start'])
        self.runner.message_hub.update_info(DATA_POSITION_KEY, now, resumed=True)
        self.dataloader_iterator = _InfiniteDataloaderIterator(self.dataloader)
        if self._iter > 0:
            print_log(
                f'Resumed data order at global sample {now["start"]} (iteration {self._iter}, world size '
                f'{now["world_size"]}, batch size {now["batch_size"]}): no trained batch is read.',
                logger='current')

    def _global_start(self, sampler: ResumableInfiniteSampler, now: dict) -> int:
        """Global number of samples trained before iteration ``self._iter``, from the saved record."""
        if self._iter == 0:
            return 0
        saved = self.runner.message_hub.get_info(DATA_POSITION_KEY)
        if saved is None:
            print_log(
                f'The checkpoint does not record its world size and batch size ({DATA_POSITION_KEY}); '
                f'assuming the current ones ({now["world_size"]} x {now["batch_size"]}).',
                logger='current',
                level=logging.WARNING)
            return self._iter * now['batch_size'] * now['world_size']
        if self._iter < saved['iter']:
            raise ValueError(f'{DATA_POSITION_KEY}: the checkpoint records a run that started at iteration '
                             f'{saved["iter"]}, after the resumed iteration {self._iter}.')
        if (saved['world_size'], saved['batch_size']) != (now['world_size'], now['batch_size']):
            print_log(
                f'Resuming with world size x batch size {now["world_size"]} x {now["batch_size"]}, '
                f'the checkpoint trained with {saved["world_size"]} x {saved["batch_size"]}: the data '
                'order continues after the last trained sample of the global stream, but the batches '
                'differ from an uninterrupted run.',
                logger='current',
                level=logging.WARNING)
        if saved['dataset_size'] != now['dataset_size']:
            print_log(
                f'The training set has {now["dataset_size"]} samples, the checkpoint was trained on '
                f'{saved["dataset_size"]}: the data order cannot continue that of the checkpoint.',
                logger='current',
                level=logging.WARNING)
        if saved['seed'] != sampler.seed:
            print_log(
                f'Sampler seed {sampler.seed} replaced by the checkpoint\'s {saved["seed"]} so the data '
                'order continues.',
                logger='current')
            sampler.seed = now['seed'] = saved['seed']
        return saved['start'] + (self._iter - saved['iter']) * saved['batch_size'] * saved['world_size']

    def _batch_size(self) -> int:
        batch_size = self.dataloader.batch_size
        if batch_size is None:
            batch_size = getattr(self.dataloader.batch_sampler, 'batch_size', None)
        if batch_size is None:
            raise ValueError('ResumableIterBasedTrainLoop: the training dataloader has no batch_size '
                             f'(batch sampler {type(self.dataloader.batch_sampler).__name__}).')
        return int(batch_size)


def _resumable_sampler(dataloader) -> Optional[ResumableInfiniteSampler]:
    """The dataloader's ResumableInfiniteSampler (direct or inside its batch sampler), else None."""
    for sampler in (getattr(dataloader, 'sampler',
                            None), getattr(getattr(dataloader, 'batch_sampler', None), 'sampler', None)):
        if isinstance(sampler, ResumableInfiniteSampler):
            return sampler
    return None
