"""State that must follow the Runner's ``model.to(device)``: built from the shipped iPOSE config.

The Runner builds the model on the CPU and then moves it (``model.to(device)``), which gives every
parameter and buffer new storage. A dtype round trip (float32 -> float64 -> float32) does the same
on a CPU. Anything that cached a tensor before the move must see the moved tensors afterwards.
"""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from PIL import Image

import mmipose  # noqa: F401  (registers the mmipose components)
from mmipose.models.partnet import PartNet
from mmipose.models.partnet.reference_tables import REFERENCE_CATEGORY_FOLDERS
from mmipose.registry import MODELS

# ~1 min on 2 CPU cores (CLIP ViT-B/32 and PartNet at full size); the fast EMA check is
# tests/test_models/test_averaged_model.py
pytestmark = pytest.mark.slow

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'ipose', 'ipose_2xb2-372kiters_cityscapes-256x512.py')
from ipose_standins import make_batch  # noqa: E402


@pytest.fixture(scope='module')
def shipped_cfg(tmp_path_factory):
    """The shipped Cityscapes iPOSE config with tiny widths, a random-init PartNet checkpoint and
    random support part maps in the reference folder layout."""
    tmp = tmp_path_factory.mktemp('device_move')
    torch.manual_seed(0)
    partnet_path = str(tmp / 'partnet.pth')
    torch.save(PartNet().state_dict(), partnet_path)
    cfg = Config.fromfile(CONFIG)
    rng = np.random.default_rng(0)
    supports = tmp / 'supports'
    from mmipose.models.partnet.reference_tables import NAMED_CATEGORIES
    for category in NAMED_CATEGORIES[cfg.part_categories]:
        folder = supports / REFERENCE_CATEGORY_FOLDERS.get(category, str(category))
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(3):
            Image.fromarray(rng.integers(0, 4, (32, 32)).astype(np.uint8), mode='L').save(folder / f'{k}part.png')
    cfg.merge_from_dict({
        'model.generator.channels_g': 2,
        'model.generator.spade_hidden_nc': 8,
        'model.discriminator.base_channels': 4,
        'model.part_inferencer.partnet.checkpoint': partnet_path,
        'model.part_inferencer.support_bank.root': str(supports)
    })
    return cfg


@pytest.fixture(scope='module')
def moved_model(shipped_cfg):
    """Built once per module (CLIP ViT-B/32 takes seconds); the tests below only add moves."""
    return _build_and_move(shipped_cfg)


def _build_and_move(cfg):
    """Build as ``Runner.build_model`` does, then move as ``Runner.wrap_model`` does."""
    init_default_scope('mmagic')
    model = MODELS.build(copy.deepcopy(cfg.model))
    before = model.state_dict()  # holds the old storage, so the move cannot reuse its addresses
    model.to(torch.float64).to(torch.float32)
    after = model.state_dict()
    assert all(after[k].data_ptr() != v.data_ptr() for k, v in before.items() if v.is_floating_point())
    return model


def test_ema_generator_follows_generator_after_device_move(shipped_cfg, moved_model):
    model = moved_model
    assert type(model.generator_ema).__name__ == 'DeviceSafeEMA'
    momentum = shipped_cfg.model.ema_config.momentum
    optim = build_optim_wrapper(model, copy.deepcopy(shipped_cfg.optim_wrapper))
    hub = MessageHub.get_instance('test_device_move_ema')
    initial = {k: v.clone() for k, v in model.generator_ema.module.state_dict().items()}
    expected = None
    model.train()
    for step in range(3):
        hub.update_info('iter', step)
        model.train_step(make_batch(num_classes=35, height=64, width=128, objects_per_image=(2, 1), seed=step), optim)
        g_state = model.generator.state_dict()
        if expected is None:  # the first update copies G
            expected = {k: v.clone() for k, v in g_state.items()}
        else:
            for k, v in g_state.items():
                if v.is_floating_point():
                    expected[k] = (1 - momentum) * expected[k] + momentum * v
    ema_state = model.generator_ema.module.state_dict()
    assert set(ema_state) == set(expected)
    for k, v in expected.items():
        torch.testing.assert_close(ema_state[k], v, msg=k)
    moved = [k for k, v in ema_state.items() if v.is_floating_point() and not torch.equal(v, initial[k])]
    assert 'conv_img.weight' in moved  # not the initial weights


def test_supports_clip_and_buffers_follow_a_device_move(moved_model):
    """SupportBank encodings are recomputed for the moved PartNet and the CLIP normalisation
    buffers move with the model; every tensor attribute is a registered parameter or buffer."""
    model = moved_model
    bank = model.part_inferencer.support_bank
    partnet = model.part_inferencer.partnet
    with torch.no_grad():
        encoding32 = bank.encoding(partnet)
        model.to(torch.float64)
        encoding64 = bank.encoding(partnet)
        direct = partnet.encode_supports(bank.supports)
    leaves = [t for t in _tensors(encoding64)]
    assert leaves and all(t.dtype == torch.float64 for t in leaves if t.is_floating_point())
    for a, b in zip(_tensors(encoding64), _tensors(direct)):
        torch.testing.assert_close(a, b)
    assert any(t.dtype == torch.float32 for t in _tensors(encoding32) if t.is_floating_point())
    style = model.losses.style_loss
    assert style.mean.dtype == style.std.dtype == torch.float64
    # no plain tensor attributes (they would not follow .to()) except spectral norm's `weight`,
    # which is recomputed from `weight_orig` at every forward
    registered = {id(t) for t in model.parameters()} | {id(t) for t in model.buffers()}
    stray = [
        f'{name}.{attr}' for name, m in model.named_modules() for attr, v in vars(m).items()
        if isinstance(v, torch.Tensor) and id(v) not in registered and not hasattr(m, attr + '_orig')
        and not name.startswith('data_preprocessor')
    ]
    assert stray == []
    model.to(torch.float32)


def _tensors(obj):
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors(o)
    elif hasattr(obj, '__dict__'):
        for o in vars(obj).values():
            yield from _tensors(o)
