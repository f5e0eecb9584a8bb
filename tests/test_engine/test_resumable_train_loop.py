"""ResumableIterBasedTrainLoop + ResumableInfiniteSampler across a real Runner resume with
persistent workers: the batches after the resume are the uninterrupted run's, and only the batches
still to train (plus the workers' prefetch) are read, not the trained ones."""
import glob
import itertools
import os
import os.path as osp

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from mmipose.engine.runner import DATA_POSITION_KEY

BATCH, WORKERS, PREFETCH = 2, 2, 2  # PREFETCH: torch's default prefetch_factor
SIZE, SEED = 7, 3  # 7 samples: the runs cross many permutation boundaries
# A new experiment name per run: MMLogger.get_instance returns an existing logger of the same name, whose
# file is in the first run's log_dir, so a resumed run's log would be missing from its own log_dir.
_run_ids = itertools.count()


class _CountingDataset(torch.utils.data.Dataset):
    """Sample i is ``dict(idx=i)``; every read appends i to a file (workers are processes)."""

    def __init__(self, log_path):
        self.log_path = log_path

    def __len__(self):
        return SIZE

    def __getitem__(self, index):
        with open(self.log_path, 'a') as f:
            f.write(f'{index}\n')
        return dict(idx=index)

    def reads(self):
        if not osp.exists(self.log_path):
            return []
        with open(self.log_path) as f:
            return [int(line) for line in f]


class _BatchRecorder(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)
        self.batches = []

    def train_step(self, data, optim_wrapper):
        self.batches.append(list(data['idx']))
        return dict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError


def _train(work_dir, max_iters, reads_log, resume=False, loop='ResumableIterBasedTrainLoop'):
    dataset = _CountingDataset(str(reads_log))
    runner = Runner(
        model=_BatchRecorder(),
        work_dir=str(work_dir),
        experiment_name=f'{osp.basename(work_dir)}-{os.getpid()}-{next(_run_ids)}',
        train_dataloader=dict(
            dataset=dataset,
            batch_size=BATCH,
            num_workers=WORKERS,
            persistent_workers=True,
            sampler=dict(type='ResumableInfiniteSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(type=loop, max_iters=max_iters),
        default_hooks=dict(logger=None, checkpoint=dict(type='CheckpointHook', interval=20, by_epoch=False)),
        randomness=dict(seed=SEED),
        resume=resume,
        default_scope='mmagic',
        log_level='INFO',
        env_cfg=dict(mp_cfg=dict(mp_start_method='fork')))
    runner.train()
    return runner, dataset.reads()


def _log_text(runner):
    """The run's log file (MMEngine writes <log_dir>/<timestamp>.log)."""
    with open(glob.glob(osp.join(runner.log_dir, '*.log'))[0]) as f:
        return f.read()


def _stream(length):
    """The uninterrupted global index stream (InfiniteSampler's: one generator seeded once)."""
    generator = torch.Generator()
    generator.manual_seed(SEED)
    out = []
    while len(out) < length:
        out += torch.randperm(SIZE, generator=generator).tolist()
    return out[:length]


def _is_batch_prefix(reads, batches, min_batches, max_batches):
    """``reads`` (in any order) are whole batches of ``batches``: all of the first ``min_batches``
    and some of the next ones up to ``max_batches``."""
    remaining = sorted(reads)
    for i, batch in enumerate(batches[:max_batches]):
        if all(remaining.count(j) >= batch.count(j) for j in batch):
            for j in batch:
                remaining.remove(j)
        elif i < min_batches:
            return False
    return not remaining


@pytest.mark.timeout(180)
def test_resume_reads_only_the_remaining_batches_and_continues_the_order(tmp_path):
    resume_at, total = 20, 24
    straight, _ = _train(tmp_path / 'straight', total, tmp_path / 'straight.log')
    assert [i for b in straight.model.batches for i in b] == _stream(total * BATCH)

    _, first_reads = _train(tmp_path / 'split', resume_at, tmp_path / 'first.log')
    assert len(first_reads) >= resume_at * BATCH
    resumed, reads = _train(tmp_path / 'split', total, tmp_path / 'resumed.log', resume=True)
    assert resumed.iter == total
    assert resumed.model.batches == straight.model.batches[resume_at:]
    remaining = total - resume_at
    # the batches still to train, plus at most the workers' prefetch; none of the trained ones
    assert _is_batch_prefix(reads, straight.model.batches[resume_at:] + _batches(total, total + WORKERS * PREFETCH),
                            remaining, remaining + WORKERS * PREFETCH), reads
    assert len(reads) <= (remaining + WORKERS * PREFETCH) * BATCH < resume_at * BATCH
    assert 'Advance dataloader' not in _log_text(resumed)
    assert f'Resumed data order at global sample {resume_at * BATCH}' in _log_text(resumed)


def _batches(begin, end):
    stream = _stream(end * BATCH)
    return [stream[i * BATCH:(i + 1) * BATCH] for i in range(begin, end)]


@pytest.mark.timeout(180)
def test_mmengine_loop_reads_every_trained_batch_again(tmp_path):
    """The behaviour this loop replaces, with the same sampler: MMEngine's advance reads them."""
    _train(tmp_path / 'split', 8, tmp_path / 'first.log', loop='IterBasedTrainLoop')
    resumed, reads = _train(tmp_path / 'split', 10, tmp_path / 'resumed.log', resume=True, loop='IterBasedTrainLoop')
    assert resumed.model.batches == _batches(8, 10)  # same order: the sampler's stream from 0
    assert len(reads) >= 10 * BATCH


@pytest.mark.timeout(180)
def test_changed_world_size_continues_after_the_last_trained_global_sample(tmp_path):
    """A checkpoint trained by 3 ranks x batch 2 for 20 iterations, resumed by 1 rank x batch 2:
    the single rank continues the global stream at sample 20 x 2 x 3 = 120, with a warning."""
    _train(tmp_path / 'split', 20, tmp_path / 'first.log')
    path = str(tmp_path / 'split' / 'iter_20.pth')
    checkpoint = _load_checkpoint(path)
    record = checkpoint['message_hub']['runtime_info'][DATA_POSITION_KEY]
    assert record == dict(iter=0, start=0, world_size=1, batch_size=BATCH, seed=SEED, dataset_size=SIZE)
    record['world_size'] = 3
    torch.save(checkpoint, path)
    resumed, _ = _train(tmp_path / 'split', 23, tmp_path / 'resumed.log', resume=True)
    assert resumed.model.batches == _batches(60, 63)  # global sample 120 = batch 60 of 1 rank x 2
    assert 'the checkpoint trained with 3 x 2' in _log_text(resumed)
    record = resumed.message_hub.get_info(DATA_POSITION_KEY)
    assert record == dict(iter=20, start=120, world_size=1, batch_size=BATCH, seed=SEED, dataset_size=SIZE)
