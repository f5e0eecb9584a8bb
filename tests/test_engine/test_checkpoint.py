"""Checkpoints: weights_only loading of Runner checkpoints, atomic writes, refusal of NaN states."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from _tiny_gan import tiny_gan_config
from mmengine.config import Config
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from mmipose.engine.hooks import AtomicCheckpointHook, NonFiniteCheckpointError
from mmipose.engine.hooks.atomic_checkpoint_hook import atomic_write_bytes
from mmipose.utils.checkpoint import find_non_finite_tensors


def _train(work_dir, **kwargs) -> Runner:
    runner = Runner.from_cfg(Config(tiny_gan_config(str(work_dir), **kwargs)))
    runner.train()
    return runner


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('ckpt')
    runner = _train(work_dir, max_iters=2, interval=1)
    return runner, work_dir


def test_runner_checkpoint_has_only_allowlisted_globals(trained):
    _, work_dir = trained
    path = osp.join(work_dir, 'iter_2.pth')
    # Without mmipose's allow-list, plain torch refuses MMEngine's HistoryBuffer and numpy values.
    plain = subprocess.run([
        sys.executable, '-c', 'import sys, torch; print(torch.serialization.'
        'get_unsafe_globals_in_checkpoint(sys.argv[1])); torch.load(sys.argv[1])', path
    ],
                           capture_output=True,
                           text=True,
                           timeout=120)
    assert plain.returncode != 0 and 'Weights only load failed' in plain.stderr
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in plain.stdout
    assert 'numpy.core.multiarray._reconstruct' in plain.stdout
    # After `import mmipose` nothing unsafe is left and weights_only=True (the default) loads it.
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    assert checkpoint['meta']['iter'] == 2
    buffer = checkpoint['message_hub']['log_scalars']['train/loss_g']
    assert buffer.statistics('current') == pytest.approx(buffer._log_history[-1])
    # MMEngine's own loader (used by --resume / load_from) goes through the same path.
    loaded = _load_checkpoint(path, map_location='cpu')
    assert set(loaded) >= {'meta', 'state_dict', 'message_hub', 'optimizer'}
    assert set(loaded['optimizer']) == {'generator', 'discriminator'}


def test_numpy_values_in_meta_load_with_weights_only(tmp_path):
    path = tmp_path / 'numpy_meta.pth'
    meta = dict(
        a=np.float64(1.5), b=np.int64(3), arr=np.arange(4, dtype=np.float32), m=np.zeros((2, 2), dtype=np.uint8))
    torch.save(dict(meta=meta), path)
    loaded = torch.load(path, weights_only=True)['meta']
    assert loaded['a'] == 1.5 and loaded['b'] == 3
    np.testing.assert_array_equal(loaded['arr'], meta['arr'])
    assert loaded['m'].dtype == np.uint8


class _GetattrPickle:
    """Pickles as ``getattr(owner, name)``, the shape of HistoryBuffer's statistics methods."""

    def __init__(self, owner, name):
        self.owner, self.name = owner, name

    def __reduce__(self):
        return (getattr, (self.owner, self.name))


@pytest.mark.parametrize('owner,name', [(np.ndarray, 'tofile'), (HistoryBuffer, '__init__'),
                                        (HistoryBuffer, '__class__')])
def test_getattr_allowlist_stays_narrow(tmp_path, owner, name):
    path = tmp_path / 'tampered.pth'
    torch.save(dict(x=_GetattrPickle(owner, name)), path)
    with pytest.raises(pickle.UnpicklingError, match='refusing getattr'):
        torch.load(path, weights_only=True)
    good = tmp_path / 'good.pth'
    torch.save(dict(x=_GetattrPickle(HistoryBuffer, 'mean')), good)
    assert torch.load(good, weights_only=True)['x'] is HistoryBuffer.mean


def test_resume_via_runner_uses_weights_only_loader(trained, tmp_path):
    _, work_dir = trained
    cfg = tiny_gan_config(str(tmp_path), max_iters=3, interval=10)
    cfg['load_from'] = osp.join(work_dir, 'iter_2.pth')
    cfg['resume'] = True
    runner = Runner.from_cfg(Config(cfg))
    runner.train()
    assert runner.iter == 3


def test_atomic_write_keeps_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / 'iter_2.pth'
    atomic_write_bytes(b'good', target)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt('killed while saving')

    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(b'half-written', target)
    assert target.read_bytes() == b'good'
    assert sorted(os.listdir(tmp_path)) == ['iter_2.pth']  # temp file cleaned up


def test_last_checkpoint_moves_only_after_complete_file(tmp_path, monkeypatch):
    """A crash inside the save of iter_4 leaves last_checkpoint on the complete iter_2."""
    runner = Runner.from_cfg(Config(tiny_gan_config(str(tmp_path), max_iters=4, interval=2)))
    real_replace = os.replace

    def replace(src, dst):
        if osp.basename(dst) == 'iter_4.pth':
            raise KeyboardInterrupt('killed while saving iter_4')
        return real_replace(src, dst)

    monkeypatch.setattr(os, 'replace', replace)
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    with open(tmp_path / 'last_checkpoint') as f:
        assert osp.basename(f.read().strip()) == 'iter_2.pth'
    assert not (tmp_path / 'iter_4.pth').exists()
    assert _load_checkpoint(str(tmp_path / 'iter_2.pth'))['meta']['iter'] == 2


def test_old_checkpoints_removed_after_new_one_saved(tmp_path):
    _train(tmp_path, max_iters=6, interval=2)  # max_keep_ckpts=2
    assert sorted(p for p in os.listdir(tmp_path)
                  if p.endswith('.pth') and p.startswith('iter_')) == ['iter_4.pth', 'iter_6.pth']
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.tmp')]


def test_find_non_finite_tensors():
    state = dict(
        a=torch.ones(3),
        b=torch.tensor([1.0, float('nan')]),
        c=torch.arange(3),
        d=torch.tensor([float('inf')]),
        e='meta')
    names, count = find_non_finite_tensors(state)
    assert names == ['b', 'd'] and count == 2
    assert find_non_finite_tensors(dict(a=torch.zeros(2))) == ([], 0)


def test_non_finite_model_is_never_saved(tmp_path):
    runner = Runner.from_cfg(Config(tiny_gan_config(str(tmp_path), max_iters=2, interval=2)))
    runner.train()  # iter_2.pth, a good checkpoint
    hook = next(h for h in runner.hooks if isinstance(h, AtomicCheckpointHook))
    with torch.no_grad():
        runner.model.generator[0].weight[0, 0] = float('nan')
    with pytest.raises(NonFiniteCheckpointError, match=r'generator\.0\.weight'):
        hook.save_checkpoint_at(runner, 3, dict(iter=3))
    assert not (tmp_path / 'iter_3.pth').exists()
    with open(tmp_path / 'last_checkpoint') as f:
        assert osp.basename(f.read().strip()) == 'iter_2.pth'
