"""An infinite sampler whose index stream can start anywhere without reading skipped samples."""
import itertools
from typing import Iterator, Optional, Sized

import torch
from mmengine.dataset import InfiniteSampler

from mmipose.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class ResumableInfiniteSampler(InfiniteSampler):
    """MMEngine's :class:`~mmengine.dataset.InfiniteSampler` that can start part-way through.

    The global stream is the one of ``InfiniteSampler``: successive permutations (or ``arange``
    without shuffling) of the dataset drawn from one ``torch.Generator`` seeded with ``seed``;
    rank ``r`` of ``n`` takes the global positions ``r, r + n, r + 2n, ...``. With
    ``start=0`` this sampler yields exactly ``InfiniteSampler``'s indices.

    :meth:`set_start` makes the next ``iter()`` begin at a global position: whole permutations
    before it are drawn and dropped (no dataset access), so resuming at sample ``N`` costs
    ``N // len(dataset)`` calls of ``randperm``. From position ``start`` rank ``r`` takes
    ``start + r, start + r + n, ...``, so with the world size of the interrupted run
    (``start = iterations x batch size x n``) each rank continues its own share exactly.

    Unlike ``InfiniteSampler`` (one generator shared by every ``iter()``, closed for good when
    an iterator is closed), every ``iter()`` returns a fresh stream from the current start.
    ``ResumableIterBasedTrainLoop`` sets the start from the restored iteration counter and
    builds one iterator per run. While :attr:`paused` is True, ``iter()`` yields nothing: the
    loop pauses the sampler while MMEngine builds its first iterator, so workers do not
    prefetch batches that a resume would throw away.

    Args:
        dataset (Sized): The dataset.
        shuffle (bool): Shuffle with one permutation per pass. Defaults to True.
        seed (int, optional): Seed of the permutations; None = a random seed shared by all
            ranks (MMEngine's ``sync_random_seed``). Defaults to None.
    """

    def __init__(self, dataset: Sized, shuffle: bool = True, seed: Optional[int] = None) -> None:
        super().__init__(dataset, shuffle=shuffle, seed=seed)
        self.indices = None  # InfiniteSampler's shared generator is not used
        self.start = 0
        self.paused = False

    def set_start(self, start: int) -> None:
        """Make the next ``iter()`` begin at global position ``start`` of the index stream."""
        if int(start) != start or start < 0:
            raise ValueError(f'ResumableInfiniteSampler.set_start: start must be an integer >= 0, got {start!r}')
        self.start = int(start)

    def _global_indices_from(self, start: int) -> Iterator[int]:
        """The global stream (all ranks) from position ``start``."""
        if self.size == 0:
            raise ValueError('ResumableInfiniteSampler: the dataset is empty')
        passes, offset = divmod(start, self.size)
        generator = torch.Generator()
        generator.manual_seed(self.seed)
        if self.shuffle:
            for _ in range(passes):  # the permutations of the passes already trained
                torch.randperm(self.size, generator=generator)
        while True:
            if self.shuffle:
                order = torch.randperm(self.size, generator=generator).tolist()
            else:
                order = list(range(self.size))
            yield from order[offset:]
            offset = 0

    def __iter__(self) -> Iterator[int]:
        if self.paused:
            return iter(())
        return itertools.islice(self._global_indices_from(self.start + self.rank), 0, None, self.world_size)
