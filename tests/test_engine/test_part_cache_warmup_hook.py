"""PartCacheWarmupHook on the toy iPOSE config (random PartNet): after the warm-up every training
step reads its part maps from the cache, and the cache holds exactly what PartNet computes."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmipose.engine.hooks import PartCacheWarmupHook

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIG = glob.glob(osp.join(ROOT, 'configs', 'toy', 'ipose_tiny_*.py'))[0]
NUM_TRAIN = 10  # scenes of the training set (the first of 60 generated: enough for clean supports)


def _cfg(work_dir, data_root, cache_size: int, max_iters: int = 2) -> Config:
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'warmup_{osp.basename(str(work_dir))}'
    for key in ('support_bank', ):
        cfg.model.part_inferencer[key].root = str(data_root / 'supports')
    cfg.model.part_inferencer.cache_size = cache_size
    cfg.train_dataloader.dataset.update(data_root=str(data_root), num_train=60, num_val=2, indices=NUM_TRAIN)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=10**6)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg', 'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = dict(type='AtomicCheckpointHook', interval=10**6, by_epoch=False)
    cfg.custom_hooks = [dict(type='PartCacheWarmupHook', batch_size=4)]
    cfg.log_level = 'WARNING'
    return cfg


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    from mmipose.registry import DATASETS
    root = tmp_path_factory.mktemp('toy_warmup')
    cfg = _cfg(root / 'unused', root, cache_size=64)
    with DefaultScope.overwrite_default_scope('mmagic'):
        DATASETS.build(cfg.train_dataloader.dataset)
    return root


def _spy_partnet_calls(runner):
    inferencer = runner.model.part_inferencer
    calls = []
    infer = inferencer._infer

    def counting(inst, objects):
        calls.append(inst.shape[0])
        return infer(inst, objects)

    inferencer._infer = counting
    return inferencer, calls


def test_after_the_warmup_training_never_calls_partnet(tmp_path, data_root):
    runner = Runner.from_cfg(_cfg(tmp_path, data_root, cache_size=64))
    inferencer, calls = _spy_partnet_calls(runner)
    runner.train()
    # the warm-up: every training scene once, 4 scenes per call; the 2 steps: cache hits only
    assert calls == [4, 4, 2]
    assert inferencer.num_cached == NUM_TRAIN
    assert inferencer.cache_hits >= 2 * 2  # at least the G step of each iteration, batch 2
    # the cached outputs are PartNet's outputs for that scene
    batch = next(iter(runner.train_dataloader))
    data = runner.model.data_preprocessor(batch, False)
    with torch.no_grad():
        _, features, logits, objects = runner.model.prepare_conditions(data['inputs'], data['data_samples'])
        direct_features, direct_logits = inferencer._infer(data['inputs']['inst'], objects)
    assert calls[3:] == [2]  # the direct call above; prepare_conditions was served by the cache
    assert sum(len(o) for o in objects) > 0
    assert torch.equal(features, direct_features) and torch.equal(logits, direct_logits)


def test_skips_and_says_why_when_the_cache_cannot_hold_the_training_set(tmp_path, data_root):
    runner = Runner.from_cfg(_cfg(tmp_path, data_root, cache_size=4, max_iters=1))
    inferencer, calls = _spy_partnet_calls(runner)
    messages = []
    hook = next(h for h in runner.hooks if isinstance(h, PartCacheWarmupHook))
    import mmipose.engine.hooks.part_cache_warmup_hook as module
    original = module.print_log
    module.print_log = lambda msg, logger=None: messages.append(msg)
    try:
        hook.before_train(runner)
    finally:
        module.print_log = original
    assert calls == [] and inferencer.num_cached == 0
    assert len(messages) == 1 and 'cache_size 4 is smaller than the 10 training scenes' in messages[0]


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match='batch_size must be >= 1, got 0'):
        PartCacheWarmupHook(batch_size=0)
