"""docs/reuse_in_your_config.md: the user's config in docs/examples/ builds and trains.

It swaps the user's PartConcatGenerator into mmipose's IPOSE model while ObjectPartInferencer,
OASISDiscriminator and OASISLoss come from mmipose through ``custom_imports``.
"""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmipose.datasets.toy import prepare_toy_data
from mmipose.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EXAMPLES = osp.join(ROOT, 'docs', 'examples')
CONFIG = osp.join(EXAMPLES, 'ipose-partconcat_1xb2-2000iters_toy-64x128.py')


@pytest.fixture(scope='module')
def toy_data(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('reuse') / 'toy')
    prepare_toy_data(root, seed=0, num_train=40, num_val=2, num_supports=3)
    return root


def test_user_config_builds_and_trains_one_step(toy_data, monkeypatch):
    monkeypatch.syspath_prepend(EXAMPLES)  # the user's module sits next to the config
    cfg = Config.fromfile(CONFIG)  # imports mmipose and part_concat_generator (custom_imports)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):  # as the Runner does
        _train_step_and_sample(cfg, toy_data)


def _train_step_and_sample(cfg, toy_data):
    cfg.model.part_inferencer.support_bank.root = osp.join(toy_data, 'supports')
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(data_root=toy_data, num_train=40, num_val=2)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert type(model.generator).__name__ == 'PartConcatGenerator'
    assert type(model.discriminator).__name__ == 'OASISDiscriminator'
    assert type(model.part_inferencer).__name__ == 'ObjectPartInferencer'
    assert type(model.losses.nplus1_loss).__name__ == 'OASISLoss'

    dataset = DATASETS.build(dataset_cfg)
    data = pseudo_collate([dataset[i] for i in range(2)])
    seen = []

    def record_parts(module, args):  # returns None: the arguments pass unchanged
        seen.append(args[2].detach().clone())

    model.generator.register_forward_pre_hook(record_parts)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    partnet_before = [p.detach().clone() for p in model.part_inferencer.parameters()]

    log_vars = model.train_step(data, optim_wrapper)

    for key in ('loss_g', 'loss_g_adv', 'loss_d', 'loss_d_fake', 'loss_d_real', 'loss_d_labelmix'):
        assert key in log_vars and math.isfinite(float(log_vars[key])), (key, log_vars)
    # PartNet's parts reach the user's generator: (B,9,H,W), non-zero exactly on some object pixels
    parts = seen[0]
    assert parts.shape == (2, 9, 64, 128)
    inst = torch.stack(data['inputs']['inst'])[:, 0].long()  # (B,H,W); objects have ids >= 1000
    on_objects = (parts != 0).any(dim=1)
    assert on_objects.any() and not on_objects.all()
    # parts sit on the object instances (the paste back from the 64x64 crops spills over object borders)
    inside = on_objects[inst >= 1000].float().mean()
    outside = on_objects[inst < 1000].float().mean()
    assert inside > 0.8 and outside < 0.1, (inside, outside)
    assert any(not torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(partnet_before, model.part_inferencer.parameters()))

    model.eval()
    with torch.no_grad():
        samples = model.val_step(pseudo_collate([dataset[0]]))
    fake = samples[0].fake_img
    fake = getattr(fake, 'data', fake)
    assert tuple(fake.shape) == (3, 64, 128) and torch.isfinite(fake).all()
