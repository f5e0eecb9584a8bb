"""Shared pytest setup: register mmipose modules once and keep runs deterministic and light."""
import os

import pytest
import torch

os.environ.setdefault('OMP_NUM_THREADS', '1')
torch.set_num_threads(1)

import mmipose  # noqa: E402,F401  (registers components, installs the mmcv-lite guard)


@pytest.fixture
def message_hub():
    """A fresh MMEngine MessageHub at iteration 0, as BaseGAN.train_step expects."""
    from mmengine import MessageHub
    hub = MessageHub.get_instance(f'mmipose-test-{os.getpid()}-{id(object())}')
    hub.update_info('iter', 0)
    return hub
