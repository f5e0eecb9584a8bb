"""The reliability checks on the real model: the iPOSE toy config (configs/toy/ipose*.py); slow.

The fast variants of the same checks run on the tiny GAN stand-in (test_resume.py,
test_determinism.py, test_ddp.py).

Resume restores G, D, EMA, both optimizers and the hub exactly; two seeded deterministic runs give
identical losses and images; DDP on 2 CPU processes keeps the replicas identical (slow).
Skipped until the toy iPOSE config exists.
"""
import glob
import os
import os.path as osp
import socket
import subprocess
import sys

import _tiny_gan  # noqa: F401  (registers MMIPoseStateDumpHook)
import pytest
import torch
from _resume_helpers import assert_nested_equal, kill_train_tool_after
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from mmipose.apis.runner_cli import enable_amp

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'toy', 'ipose*.py')))
# Each test trains the real toy model for a few iterations: 20-40 s on a shared 2-core machine.
pytestmark = [pytest.mark.skipif(not CONFIGS, reason='no configs/toy/ipose*.py yet'), pytest.mark.slow]

_runs = iter(range(10**6))
TOY_DATA = dict(num_train=60, num_val=4)  # a small toy cache (the config's default is 400 scenes)


def _rebase_paths(node, old: str, new: str):
    """Point every string path under ``old`` (e.g. data_root + '/supports') to ``new``."""
    if isinstance(node, dict):
        for k in list(node):
            if isinstance(node[k], str) and node[k].startswith(old):
                node[k] = new + node[k][len(old):]
            else:
                _rebase_paths(node[k], old, new)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, str) and item.startswith(old):
                node[i] = new + item[len(old):]
            else:
                _rebase_paths(item, old, new)


def small_ipose_cfg(work_dir, data_root, max_iters=2, interval=1, seed=0) -> Config:
    """The toy iPOSE config cut down to a few training iterations without validation."""
    cfg = Config.fromfile(CONFIGS[0])
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'ipose_toy_{os.getpid()}_{next(_runs)}'
    _rebase_paths(cfg._cfg_dict, cfg.data_root, str(data_root))
    cfg.train_dataloader.dataset.update(TOY_DATA)
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_cfg = dict(type='ResumableIterBasedTrainLoop', max_iters=max_iters, val_interval=10**6)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = dict(
        type='AtomicCheckpointHook', interval=interval, by_epoch=False, max_keep_ckpts=3)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    hooks = [h for h in cfg.get('custom_hooks', []) if h['type'] != 'IPOSESampleGridHook']
    for hook in hooks:
        if hook['type'] == 'EMABNRefreshHook':
            hook['num_batches'] = 1
    cfg.custom_hooks = hooks + [dict(type='MMIPoseStateDumpHook')]
    cfg.custom_imports = dict(imports=['mmipose', '_tiny_gan'], allow_failed_imports=False)
    cfg.randomness = dict(seed=seed, deterministic=True, diff_rank_seed=True)
    cfg.log_level = 'WARNING'
    cfg.param_scheduler = None
    return cfg


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    """Toy scenes and their supports, written before the model (its SupportBank) is built."""
    from mmengine.registry import DefaultScope

    from mmipose.registry import DATASETS
    root = tmp_path_factory.mktemp('toy_data')
    cfg = small_ipose_cfg(root / 'unused', root)
    with DefaultScope.overwrite_default_scope('mmagic'):
        DATASETS.build(cfg.train_dataloader.dataset)
    return root


@pytest.fixture(autouse=True)
def restore_global_determinism():
    saved = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(saved)


def _dump_hook(runner):
    return next(h for h in runner.hooks if type(h).__name__ == 'MMIPoseStateDumpHook')


def test_ipose_toy_resume_restores_everything(tmp_path, data_root):
    first = Runner.from_cfg(small_ipose_cfg(tmp_path, data_root, max_iters=2))
    first.train()
    cfg = small_ipose_cfg(tmp_path, data_root, max_iters=3)
    cfg.resume = True
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    assert resumed.iter == 3
    dumped = torch.load(tmp_path / 'state_before_train.pth', weights_only=True)
    saved = _load_checkpoint(str(tmp_path / 'iter_2.pth'))  # weights_only=True loader
    assert dumped['iter'] == 2
    assert_nested_equal(dumped['state_dict'], saved['state_dict'], 'state_dict')
    assert_nested_equal(dumped['optimizer'], saved['optimizer'], 'optimizer')
    assert {'generator', 'discriminator'} <= set(dumped['optimizer'])
    assert any(k.startswith('generator_ema.') for k in dumped['state_dict'])
    assert dumped['hub_info']['last_ckpt'].endswith('iter_2.pth')


def _images(runner):
    dataset = runner.train_dataloader.dataset
    batch = pseudo_collate([dataset[0], dataset[1]])
    model = runner.model
    with torch.no_grad():
        torch.manual_seed(123)
        data = model.data_preprocessor(batch, False)
        data['inputs']['sample_model'] = 'orig'
        samples = model(data['inputs'], data['data_samples'])
    return torch.stack([s.fake_img for s in samples])


def test_ipose_toy_seeded_runs_are_identical(tmp_path, data_root):
    results = []
    for name in ('a', 'b'):
        runner = Runner.from_cfg(small_ipose_cfg(tmp_path / name, data_root, max_iters=2, interval=100, seed=5))
        runner.train()
        results.append((_dump_hook(runner).losses, runner.model.state_dict(), _images(runner)))
    (losses_a, state_a, images_a), (losses_b, state_b, images_b) = results
    assert len(losses_a) == 2 and losses_a == losses_b
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name
    assert torch.equal(images_a, images_b)


@pytest.mark.skipif(torch.cuda.is_available(), reason='tests the CPU-only path')
def test_ipose_toy_two_cpu_processes(tmp_path, data_root):
    """dist_train.sh with 2 gloo ranks: G and D replicas stay identical across ranks (gradients
    are averaged; per-rank noise and BN statistics make the losses differ between ranks)."""
    cfg = small_ipose_cfg(tmp_path / 'work', data_root, max_iters=2, interval=100)
    config = tmp_path / 'ipose_toy_ddp.py'
    cfg.dump(str(config))
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=osp.dirname(__file__), PORT=str(port), OMP_NUM_THREADS='1', PYTHON=sys.executable)
    result = subprocess.run(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'),
                             str(config), '2'],
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / 'work' / f'after_train_rank{r}.pth', weights_only=True) for r in (0, 1)]
    for rank in ranks:
        assert len(rank['losses']) == 2
        assert all(torch.isfinite(torch.tensor(list(losses.values()))).all() for losses in rank['losses'])
    assert ranks[0]['losses'] != ranks[1]['losses']  # different shards and noise per rank
    for name, value in ranks[0]['state_dict'].items():
        if name.startswith(('generator.', 'discriminator.')) and 'running_' not in name \
                and 'num_batches' not in name:
            torch.testing.assert_close(value, ranks[1]['state_dict'][name], rtol=0, atol=0, msg=name)


def test_ipose_toy_sigkill_then_resume_with_train_tool(tmp_path, data_root):
    """SIGKILL ``tools/train.py`` on the toy iPOSE while it trains (a checkpoint every
    iteration); ``--resume`` restarts from the checkpoint ``last_checkpoint`` names, with G, D,
    EMA and both Adam states equal to that file."""
    cfg = small_ipose_cfg(tmp_path, data_root, max_iters=1000, interval=1)
    config = tmp_path / 'ipose_toy_kill.py'
    cfg.dump(str(config))
    cmd, env, latest = kill_train_tool_after(config, tmp_path, 'iter_1.pth', timeout=400)
    saved = _load_checkpoint(latest)
    saved_iter = saved['meta']['iter']
    assert saved_iter >= 2
    resumed = subprocess.run(
        cmd + ['--resume', '--cfg-options', f'train_cfg.max_iters={saved_iter + 1}'],
        env=env,
        capture_output=True,
        text=True,
        timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    dumped = torch.load(tmp_path / 'state_before_train.pth', weights_only=True)
    assert dumped['iter'] == saved_iter
    assert_nested_equal(dumped['state_dict'], saved['state_dict'], 'state_dict')
    assert_nested_equal(dumped['optimizer'], saved['optimizer'], 'optimizer')
    final = torch.load(tmp_path / 'after_train_rank0.pth', weights_only=True)
    assert final['iter'] == saved_iter + 1


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA uses MMEngine AmpOptimWrapper')
def test_ipose_toy_amp_bfloat16_on_cpu(tmp_path, data_root):
    """``--amp`` without CUDA: both optimizers become CPUAutocastOptimWrapper (bf16); the toy
    iPOSE trains with finite losses."""
    import math
    cfg = small_ipose_cfg(tmp_path, data_root, max_iters=2, interval=100)
    enable_amp(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert {type(w).__name__ for w in runner.optim_wrapper.values()} == {'CPUAutocastOptimWrapper'}
    losses = _dump_hook(runner).losses
    assert len(losses) == 2 and all(math.isfinite(v) for step in losses for v in step.values())
