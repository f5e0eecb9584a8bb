"""ResumableInfiniteSampler: InfiniteSampler's stream, rank shares, pass boundaries and start offsets."""
import itertools

import pytest
import torch
from mmengine.dataset import InfiniteSampler

from mmipose.datasets.samplers import ResumableInfiniteSampler


def _global_stream(size, seed, shuffle, length):
    """Reference: successive permutations from one generator seeded once, concatenated."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    stream = []
    while len(stream) < length:
        stream += torch.randperm(size, generator=generator).tolist() if shuffle else list(range(size))
    return stream[:length]


def _sampler(cls, size, rank, world_size, shuffle=True, seed=11):
    sampler = cls(list(range(size)), shuffle=shuffle, seed=seed)
    sampler.rank, sampler.world_size = rank, world_size
    if cls is InfiniteSampler:
        sampler.indices = sampler._indices_of_rank()  # re-slice with the rank set above
    return sampler


def _take(sampler, count):
    return list(itertools.islice(iter(sampler), count))


@pytest.mark.parametrize('shuffle', [True, False])
@pytest.mark.parametrize('world_size', [1, 3])
def test_start_zero_is_mmengine_infinite_sampler(shuffle, world_size):
    for rank in range(world_size):
        ours = _take(_sampler(ResumableInfiniteSampler, 7, rank, world_size, shuffle), 30)
        theirs = _take(_sampler(InfiniteSampler, 7, rank, world_size, shuffle), 30)
        assert ours == theirs


@pytest.mark.parametrize('shuffle', [True, False])
@pytest.mark.parametrize('world_size', [1, 2, 3])
def test_start_offset_slices_the_uninterrupted_stream(shuffle, world_size):
    size, count = 7, 25
    stream = _global_stream(size, 11, shuffle, 200)
    for start in (0, 1, 6, 7, 8, 20, 41):  # inside the first pass, on and across pass boundaries
        for rank in range(world_size):
            sampler = _sampler(ResumableInfiniteSampler, size, rank, world_size, shuffle)
            sampler.set_start(start)
            assert _take(sampler, count) == stream[start + rank::world_size][:count], (start, rank)


def test_rank_shares_partition_the_stream_and_passes_are_permutations():
    size, world_size, per_rank = 5, 3, 20
    shares = [_take(_sampler(ResumableInfiniteSampler, size, r, world_size), per_rank) for r in range(world_size)]
    merged = [shares[i % world_size][i // world_size] for i in range(world_size * per_rank)]
    assert merged == _global_stream(size, 11, True, world_size * per_rank)
    passes = [merged[i:i + size] for i in range(0, len(merged), size)]
    assert all(sorted(p) == list(range(size)) for p in passes)
    assert len({tuple(p) for p in passes}) > 1  # a new permutation per pass


def test_resume_with_same_world_size_continues_each_rank():
    """Start = iterations x batch x world size: every rank continues its own uninterrupted share."""
    size, world_size, batch, iters = 9, 2, 3, 5
    for rank in range(world_size):
        straight = _take(_sampler(ResumableInfiniteSampler, size, rank, world_size), 40)
        resumed = _sampler(ResumableInfiniteSampler, size, rank, world_size)
        resumed.set_start(iters * batch * world_size)
        assert _take(resumed, 40 - iters * batch) == straight[iters * batch:]


def test_every_iter_restarts_at_start_and_pause_yields_nothing():
    sampler = _sampler(ResumableInfiniteSampler, 6, 0, 1)
    sampler.set_start(4)
    first = _take(sampler, 10)
    assert _take(sampler, 10) == first
    sampler.paused = True
    assert list(iter(sampler)) == []
    sampler.paused = False
    assert _take(sampler, 10) == first


@pytest.mark.parametrize('start', [-1, 2.5])
def test_bad_start(start):
    with pytest.raises(ValueError, match='start must be an integer'):
        _sampler(ResumableInfiniteSampler, 6, 0, 1).set_start(start)
