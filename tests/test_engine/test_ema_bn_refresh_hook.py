"""EMABNRefreshHook: when it refreshes, and that the refresh re-estimates the EMA BN statistics."""
import copy
import logging
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmipose.engine.hooks import EMABNRefreshHook
from mmipose.registry import HOOKS


class _RecordingModel(nn.Module):
    """Counts refresh calls and the batches each one consumed."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def refresh_ema_norm_stats(self, batches):
        batches = list(batches)
        self.calls.append(batches)
        return len(batches)


def _runner(model, dataloader, train=True):
    runner = SimpleNamespace(
        model=model, train_dataloader=dataloader, iter=0, logger=logging.getLogger('test-ema-bn-refresh'))
    runner._train_loop = object() if train else None
    return runner


def test_registered():
    assert HOOKS.get('EMABNRefreshHook') is EMABNRefreshHook


def test_schedule_interval_val_and_end():
    model = _RecordingModel()
    runner = _runner(model, [dict(i=i) for i in range(10)])
    hook = EMABNRefreshHook(interval=2, num_batches=3)
    refreshed_after = []
    for it in range(5):  # iterations 0..4; MMEngine passes the 0-based index as runner.iter
        runner.iter = it
        before = len(model.calls)
        hook.after_train_iter(runner, batch_idx=it)
        if len(model.calls) > before:
            refreshed_after.append(it + 1)
    assert refreshed_after == [2, 4]
    assert all(len(c) == 3 for c in model.calls)
    assert model.calls[0] == [dict(i=0), dict(i=1), dict(i=2)]  # a fresh iterator each time

    runner.iter = 4  # validation after the 4th iteration: statistics are already fresh
    hook.before_val(runner)
    assert len(model.calls) == 2
    runner.iter = 5  # end of training after 5 iterations: one more refresh
    hook.after_train(runner)
    assert len(model.calls) == 3
    hook.after_train(runner)  # nothing new to refresh
    assert len(model.calls) == 3


def test_no_refresh_in_standalone_val_and_disabled_interval():
    model = _RecordingModel()
    runner = _runner(model, [0, 1], train=False)
    hook = EMABNRefreshHook(interval=0)
    for it in range(3):
        runner.iter = it
        hook.after_train_iter(runner, batch_idx=it)
    hook.before_val(runner)
    assert model.calls == []


def test_short_dataloader_and_bad_arguments():
    model = _RecordingModel()
    runner = _runner(model, [0, 1])
    EMABNRefreshHook(interval=1, num_batches=51).after_train_iter(runner, batch_idx=0)
    assert model.calls == [[0, 1]]
    with pytest.raises(ValueError, match='num_batches'):
        EMABNRefreshHook(num_batches=0)
    with pytest.raises(TypeError, match='refresh_ema_norm_stats'):
        EMABNRefreshHook(interval=1).after_train_iter(_runner(nn.Linear(1, 1), [0]), batch_idx=0)


def test_refresh_leaves_the_training_stream_of_an_infinite_sampler_intact():
    """A side iterator of the training DataLoader used to close the InfiniteSampler's shared
    generator: the training loop's next batch then raised StopIteration."""
    import gc

    from mmengine.dataset import InfiniteSampler
    from torch.utils.data import DataLoader
    dataset = list(range(10))
    loader = DataLoader(dataset, batch_size=2, sampler=InfiniteSampler(dataset, shuffle=False))
    model = _RecordingModel()
    runner = _runner(model, loader)
    stream = iter(loader)
    assert next(stream).tolist() == [0, 1]
    EMABNRefreshHook(interval=1, num_batches=3).after_train_iter(runner, batch_idx=0)
    gc.collect()
    assert [next(stream).tolist() for _ in range(5)] == [[2, 3], [4, 5], [6, 7], [8, 9], [0, 1]]
    assert len(model.calls[0]) == 3 and all(len(b) == 2 for b in model.calls[0])
    assert sorted(torch.cat(model.calls[0]).tolist()) == sorted(set(torch.cat(model.calls[0]).tolist()))


class _TinyEMAGenerator(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 1)
        self.bn = nn.BatchNorm2d(4, affine=False)

    def forward(self, x):
        return self.bn(self.conv(x))


class _TinyModel(nn.Module):
    """Implements the refresh protocol the way IPOSE does: EMA module in train mode, no_grad."""

    def __init__(self):
        super().__init__()
        self.generator_ema = SimpleNamespace(module=_TinyEMAGenerator())

    @torch.no_grad()
    def refresh_ema_norm_stats(self, batches):
        gen = self.generator_ema.module
        was_training = gen.training
        gen.train()
        n = 0
        for batch in batches:
            gen(batch)
            n += 1
        gen.train(was_training)
        return n


def test_refresh_matches_manual_running_average():
    torch.manual_seed(0)
    model = _TinyModel()
    ema = model.generator_ema.module
    ema.eval()
    batches = [torch.randn(2, 2, 3, 3) * (i + 1) for i in range(4)]
    # independent computation: BN momentum 0.1 running average with the unbiased batch variance
    mean = ema.bn.running_mean.clone()
    var = ema.bn.running_var.clone()
    for b in batches:
        y = ema.conv(b).detach()
        bm = y.mean(dim=(0, 2, 3))
        bv = y.var(dim=(0, 2, 3), unbiased=True)
        mean = 0.9 * mean + 0.1 * bm
        var = 0.9 * var + 0.1 * bv
    weights_before = copy.deepcopy(ema.conv.state_dict())
    runner = _runner(model, batches)
    EMABNRefreshHook(interval=1, num_batches=4).after_train_iter(runner, batch_idx=0)
    torch.testing.assert_close(ema.bn.running_mean, mean)
    torch.testing.assert_close(ema.bn.running_var, var)
    assert int(ema.bn.num_batches_tracked) == 4
    assert not ema.training  # back to the mode it had
    for k, v in ema.conv.state_dict().items():
        assert torch.equal(v, weights_before[k])  # weights untouched


class _IndexDataset(torch.utils.data.Dataset):
    """Sample i is ``dict(idx=i)``."""

    def __len__(self):
        return 20

    def __getitem__(self, index):
        return dict(idx=index)


class _StreamRecorder(BaseModel):
    """Records the sample ids of every training step and every refresh."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)
        self.train_ids = []
        self.refresh_ids = []

    def train_step(self, data, optim_wrapper):
        self.train_ids.append(list(data['idx']))
        return dict()

    def refresh_ema_norm_stats(self, batches):
        batches = [list(b['idx']) for b in batches]
        self.refresh_ids.append(batches)
        return len(batches)

    def forward(self, *args, **kwargs):
        raise NotImplementedError


def _train_stream(tmp_path, with_hook):
    runner = Runner(
        model=_StreamRecorder(),
        work_dir=str(tmp_path / f'hook{with_hook}'),
        train_dataloader=dict(
            dataset=_IndexDataset(),
            batch_size=2,
            num_workers=2,
            persistent_workers=True,
            sampler=dict(type='InfiniteSampler', shuffle=True, seed=3)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=12),
        custom_hooks=[dict(type='EMABNRefreshHook', interval=3, num_batches=4)] if with_hook else [],
        default_hooks=dict(checkpoint=None, logger=None),
        randomness=dict(seed=5),
        env_cfg=dict(mp_cfg=dict(mp_start_method='fork')),
        default_scope='mmagic')
    runner.train()
    return runner.model


@pytest.mark.timeout(120)
def test_refresh_leaves_persistent_worker_training_stream_intact(tmp_path):
    """Workers + persistent_workers + InfiniteSampler: training sees the batches it would see
    without the hook, and every refresh reads its own num_batches full batches."""
    plain = _train_stream(tmp_path, with_hook=False)
    hooked = _train_stream(tmp_path, with_hook=True)
    assert len(plain.train_ids) == 12
    assert hooked.train_ids == plain.train_ids
    # after iterations 3, 6, 9, 12 (the end-of-training refresh is skipped: already fresh)
    assert len(hooked.refresh_ids) == 4
    for batches in hooked.refresh_ids:
        assert len(batches) == 4 and all(len(b) == 2 for b in batches)
        ids = [i for b in batches for i in b]
        assert len(set(ids)) == 8 and all(0 <= i < 20 for i in ids)  # a permutation's prefix
    assert hooked.refresh_ids[0] != hooked.refresh_ids[1]  # a new draw for each refresh
