"""Sampling models with random weights for the deployment tests (no data, no weight files)."""
import os.path as osp

import numpy as np
import torch
import torch.nn as nn

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = osp.join(ROOT, 'configs', 'toy', 'ipose_tiny_1xb4-600iters_toy-64x128.py')
CITYSCAPES_CONFIG = osp.join(ROOT, 'configs', 'ipose', 'ipose_2xb2-372kiters_cityscapes-256x512.py')


def random_supports_config(config: str):
    """The config with in-memory random k=3 supports and a random PartNet (no files)."""
    from mmengine.config import Config

    from mmipose.models.partnet.reference_tables import NAMED_CATEGORIES
    cfg = Config.fromfile(config)
    bank = cfg.model.part_inferencer.support_bank
    categories = bank.categories
    if isinstance(categories, str):
        categories = NAMED_CATEGORIES[categories]
    rng = np.random.default_rng(0)
    maps = {int(c): rng.integers(0, 9, (3, 64, 64)) for c in categories}
    bank.update(root=None, categories=list(maps), maps=maps, num_supports=3)
    cfg.model.part_inferencer.partnet.checkpoint = None
    return cfg


def calibrate_generator(model: nn.Module, size=(64, 128)) -> None:
    """BN running statistics of the sampled generator from one train-mode forward on a scene.

    A freshly initialised generator in eval mode (running mean 0, var 1) grows its activations
    block after block (~1e32 before the tanh at full width): its output is saturated and float
    rounding flips signs, so parity would be meaningless.
    """
    from mmipose.deploy.onnx_export import _eager_scene, sampled_generator
    generator = sampled_generator(model)
    inputs = _eager_scene(model, model.cfg.object_part_categories, size, seed=5)['generator_inputs']
    for m in generator.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = None
    generator.train()
    with torch.no_grad():
        generator(*inputs[:3], z=inputs[3], z_part=inputs[4])
    generator.eval()


def build_model(config: str, seed: int = 0) -> nn.Module:
    from mmengine.registry import init_default_scope

    import mmipose  # noqa: F401
    from mmipose.apis.model_loading import build_sampling_model
    cfg = random_supports_config(config)
    init_default_scope('mmagic')
    torch.manual_seed(seed)
    model = build_sampling_model(cfg, 'auto').eval()
    model.cfg = cfg
    calibrate_generator(model)
    return model


def write_toy_config(path: str) -> str:
    """A toy config file with small in-memory random supports and a random PartNet (no data needed)."""
    rng = np.random.default_rng(0)
    maps = {c: rng.integers(0, 9, (3, 8, 8)).tolist() for c in (24, 26, 28, 101)}
    with open(path, 'w') as f:
        f.write(f'_base_ = {TOY_CONFIG!r}\n'
                'model = dict(part_inferencer=dict(partnet=dict(checkpoint=None), support_bank=dict(\n'
                f'    _delete_=True, type="SupportBank", root=None, categories={list(maps)}, maps={maps!r})))\n')
    return path
