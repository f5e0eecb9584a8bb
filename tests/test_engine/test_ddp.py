"""Distributed training on CPU: gloo backend, MMSeparateDistributedDataParallel, same numbers as a
single process over the same global batch."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as torch_dist
from _tiny_gan import tiny_gan_config
from mmengine.config import Config
from mmengine.runner import Runner

from mmipose.apis.runner_cli import parse_train_args, run_train
from mmipose.utils import configure_cpu_distributed

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _write_config(tmp_path, **kwargs) -> str:
    cfg = tiny_gan_config(str(tmp_path / 'work'), **kwargs)
    cfg['train_dataloader']['sampler']['shuffle'] = False
    path = tmp_path / 'tiny_gan_ddp.py'
    path.write_text(Config(cfg).pretty_text)
    return str(path)


@pytest.mark.skipif(torch.cuda.is_available(), reason='tests the CPU-only path')
def test_cpu_launcher_config_uses_gloo_and_cpu_ddp(monkeypatch):
    cfg = Config(
        dict(
            launcher='pytorch',
            env_cfg=dict(dist_cfg=dict(backend='nccl')),
            model_wrapper_cfg=dict(type='MMSeparateDistributedDataParallel'),
            sync_bn='torch'))
    monkeypatch.setattr(torch_dist, 'is_initialized', lambda: True)
    monkeypatch.setattr(torch_dist, 'get_rank', lambda: 0)
    monkeypatch.setattr(torch_dist, 'get_world_size', lambda: 2)
    configure_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None  # CPU modules: DDP without device ids
    assert cfg.sync_bn is None  # SyncBatchNorm has no CPU kernel
    bare = Config(dict(launcher='pytorch'))  # no env_cfg / model_wrapper_cfg in the config
    configure_cpu_distributed(bare)
    assert bare.env_cfg.dist_cfg.backend == 'gloo'
    assert bare.model_wrapper_cfg.device_ids is None
    with pytest.raises(RuntimeError, match='--launcher pytorch'):
        configure_cpu_distributed(Config(dict(launcher='slurm')))


@pytest.mark.skipif(torch.cuda.is_available(), reason='tests the CPU-only path')
def test_train_tool_pytorch_launcher_single_rank_gloo(tmp_path, monkeypatch):
    """tools/train.py --launcher pytorch on CPU (world size 1, in-process): the generator and the
    discriminator are wrapped in their own DDP, gloo is the backend, training runs."""
    for key, value in dict(
            RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1', MASTER_PORT=str(_free_port())).items():
        monkeypatch.setenv(key, value)
    config = _write_config(tmp_path, max_iters=2, batch_size=2)
    captured = {}
    original_train = Runner.train

    def train(runner):
        captured['runner'] = runner
        captured['backend'] = torch_dist.get_backend()
        return original_train(runner)

    monkeypatch.setattr(Runner, 'train', train)
    try:
        run_train(parse_train_args([config, '--launcher', 'pytorch']))
        # torn down at the end: a rank exiting with live gloo threads can abort at exit
        assert not torch_dist.is_initialized()
    finally:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()
    assert captured['backend'] == 'gloo'
    runner = captured['runner']
    assert runner.distributed and runner.iter == 2
    wrapped = runner.model.module
    assert type(runner.model).__name__ == 'MMSeparateDistributedDataParallel'
    assert type(wrapped.generator).__name__ == 'MMDistributedDataParallel'
    assert type(wrapped.discriminator).__name__ == 'MMDistributedDataParallel'
    # The EMA generator has no trainable parameters: moved to the device, not wrapped.
    assert type(wrapped.generator_ema).__name__ == 'ExponentialMovingAverage'
    assert osp.isfile(tmp_path / 'work' / 'iter_2.pth')


@pytest.mark.skipif(torch.cuda.is_available(), reason='tests the CPU-only path')
def test_two_cpu_processes_match_single_process(tmp_path):
    """``tools/dist_train.sh CONFIG 2`` (gloo, 2 x batch 2) == one process with batch 4.

    The tiny GAN has no batch statistics and no noise, and every loss is a mean over the batch,
    so DDP's gradient average over ranks equals the single-process gradient over the union of
    the ranks' samples (DefaultSampler without shuffling deals index i to rank i % 2, so
    iteration k sees samples 4k..4k+3 in both runs). Only the float32 summation order differs:
    tolerance 1e-5 relative. With BatchNorm (per-rank statistics, SyncBN only on CUDA) or
    per-rank noise (``diff_rank_seed``) the runs would differ by design.
    """
    iters = 3
    config = _write_config(tmp_path, max_iters=iters, batch_size=2)
    for attempt in range(3):  # a free port can be taken between _free_port() and torchrun
        env = dict(
            os.environ,
            PYTHONPATH=osp.dirname(__file__),
            PORT=str(_free_port()),
            OMP_NUM_THREADS='1',
            PYTHON=sys.executable)
        result = subprocess.run(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), config, '2'],
                                env=env,
                                capture_output=True,
                                text=True,
                                timeout=300)
        if 'address already in use' not in result.stderr.lower():
            break
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'terminate called' not in result.stderr
    ranks = [torch.load(tmp_path / 'work' / f'after_train_rank{r}.pth', weights_only=True) for r in (0, 1)]

    single_cfg = tiny_gan_config(str(tmp_path / 'single'), max_iters=iters, batch_size=4)
    single_cfg['train_dataloader']['sampler']['shuffle'] = False
    single = Runner.from_cfg(Config(single_cfg))
    single.train()
    hook = next(h for h in single.hooks if type(h).__name__ == 'MMIPoseStateDumpHook')

    for it in range(iters):
        for key in ('loss_g', 'loss_d'):
            ddp_mean = (ranks[0]['losses'][it][key] + ranks[1]['losses'][it][key]) / 2
            assert ddp_mean == pytest.approx(hook.losses[it][key], rel=1e-5), (it, key)
    for name, value in single.model.state_dict().items():
        # Ranks hold identical replicas, equal to the single-process model.
        torch.testing.assert_close(ranks[0]['state_dict'][name], ranks[1]['state_dict'][name], rtol=0, atol=0, msg=name)
        torch.testing.assert_close(ranks[0]['state_dict'][name], value, rtol=1e-5, atol=1e-6, msg=name)
