"""Shared pytest setup: register mmipose modules once and keep runs deterministic and light."""
import itertools
import os

import pytest
import torch

os.environ.setdefault('OMP_NUM_THREADS', '1')
torch.set_num_threads(1)

import mmipose  # noqa: E402,F401  (registers components, installs the mmcv-lite guard)
from mmipose.utils.checkpoint import allow_mmengine_checkpoints  # noqa: E402

# The test process is an entry point: in-process Runners resume MMEngine checkpoints (weights-only).
allow_mmengine_checkpoints()

_hub_ids = itertools.count()


@pytest.fixture
def message_hub():
    """A fresh MMEngine MessageHub at iteration 0, as BaseGAN.train_step expects.

    The name must be new: ``get_instance`` of an existing name returns that hub without making it
    the current one, so updates would miss the hub the model reads (``id(object())`` repeats).
    """
    from mmengine import MessageHub
    hub = MessageHub.get_instance(f'mmipose-test-{os.getpid()}-{next(_hub_ids)}')
    assert MessageHub.get_current_instance() is hub
    hub.update_info('iter', 0)
    return hub


def pytest_sessionfinish(session, exitstatus):
    """Fail a run that ignores tests/test_deploy but still loaded OpenVINO.

    `make test` runs the deployment tests in a process of their own: with the graph runtimes loaded
    and run, a later training test in the same process was killed by a segmentation fault. A test
    outside tests/test_deploy that reaches them (e.g. through the default backend 'auto') must pick
    backend='pytorch' or move there. (ONNX Runtime cannot be watched this way: MMagic's diffusers
    imports it with mmipose.)
    """
    import sys
    ignored = [str(path) for path in (session.config.getoption('ignore') or [])]
    if 'openvino' in sys.modules and any('test_deploy' in path for path in ignored):
        print(
            '\nconftest: openvino was imported by a test outside tests/test_deploy (see tests/conftest.py)',
            file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
