"""DeviceSafeEMA keeps averaging the moved tensors after ``.to()`` (MMagic's EMA does not)."""
import pytest
import torch
import torch.nn as nn
from mmagic.models.base_models import ExponentialMovingAverage

from mmipose.models import DeviceSafeEMA
from mmipose.registry import MODELS


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.utils.spectral_norm(nn.Linear(3, 4)), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def _train_and_average(ema_type, momentum=0.25, steps=4):
    net = _net()
    ema = ema_type(net, momentum=momentum, update_buffers=True)
    net.to(torch.float64)  # new storage for every tensor, like Runner's model.to('cuda')
    ema.to(torch.float64)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    expected = None
    for step in range(steps):
        net(torch.randn(5, 3, dtype=torch.float64)).square().mean().backward()
        opt.step()
        opt.zero_grad()
        ema.update_parameters(net)
        state = net.state_dict()
        if expected is None:
            expected = {k: v.clone() for k, v in state.items()}
        else:
            for k, v in state.items():
                if v.is_floating_point():
                    expected[k] = (1 - momentum) * expected[k] + momentum * v
    return ema, expected


def test_registered():
    assert MODELS.get('DeviceSafeEMA') is DeviceSafeEMA


def test_ema_follows_the_model_after_a_move():
    ema, expected = _train_and_average(DeviceSafeEMA)
    state = ema.module.state_dict()
    assert set(state) == set(expected)
    for k, v in expected.items():
        torch.testing.assert_close(state[k], v, msg=k)
    assert state['1.running_mean'].dtype == torch.float64


def test_mmagic_ema_loses_the_move():
    """Why DeviceSafeEMA exists: MMagic's EMA keeps its initial weights after a move."""
    ema, expected = _train_and_average(ExponentialMovingAverage)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(ema.module.state_dict()['3.weight'], expected['3.weight'])
