"""``--amp`` on a CPU-only machine: bfloat16 autocast (CPUAutocastOptimWrapper), finite losses."""
import math
import os.path as osp

import pytest
import torch
from _tiny_gan import tiny_gan_config
from mmengine.config import Config
from mmengine.runner import Runner

from mmipose.apis.runner_cli import build_train_config, parse_train_args
from mmipose.engine.optim_wrappers import CPUAutocastOptimWrapper

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA uses MMEngine AmpOptimWrapper')
def test_amp_flag_trains_in_bfloat16_on_cpu(tmp_path):
    config = tmp_path / 'tiny_gan.py'
    config.write_text(Config(tiny_gan_config(str(tmp_path / 'work'), max_iters=3)).pretty_text)
    cfg = build_train_config(parse_train_args([str(config), '--amp']))
    assert cfg.optim_wrapper.generator.type == 'mmagic.CPUAutocastOptimWrapper'
    assert cfg.optim_wrapper.discriminator.dtype == 'bfloat16'
    runner = Runner.from_cfg(cfg)
    runner.train()
    wrappers = runner.optim_wrapper
    assert all(isinstance(w, CPUAutocastOptimWrapper) for w in wrappers.values())
    hook = next(h for h in runner.hooks if type(h).__name__ == 'MMIPoseStateDumpHook')
    assert len(hook.losses) == 3
    assert all(math.isfinite(v) for losses in hook.losses for v in losses.values())
    # Inside the wrapper's context the layers really compute in bfloat16; weights stay float32.
    generator = runner.model.generator
    with wrappers['generator'].optim_context(generator):
        out = generator(torch.randn(2, 4))
    assert out.dtype == torch.bfloat16
    assert generator[0].weight.dtype == torch.float32


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA uses MMEngine AmpOptimWrapper')
def test_amp_flag_builds_in_an_mmseg_scoped_config(tmp_path):
    """The toy segmenter config (default_scope='mmseg') gets a CPU autocast wrapper it can build."""
    config = osp.join(ROOT, 'configs', 'toy', 'segmenter_unet-s16_1xb8-300iters_toy-64x128.py')
    cfg = build_train_config(parse_train_args([config, '--amp', '--work-dir', str(tmp_path)]))
    assert cfg.default_scope == 'mmseg'
    model = torch.nn.Conv2d(3, 4, 3)
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert isinstance(wrapper, CPUAutocastOptimWrapper)
    with wrapper.optim_context(model):
        assert model(torch.randn(1, 3, 8, 8)).dtype == torch.bfloat16


def test_cpu_autocast_rejects_float16():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match='bfloat16'):
        CPUAutocastOptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), dtype='float16')
