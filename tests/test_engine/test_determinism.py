"""Determinism: with a seed and ``deterministic=True`` two CPU runs give identical losses/weights."""
import pytest
import torch
from _tiny_gan import tiny_gan_config
from mmengine.config import Config
from mmengine.runner import Runner


@pytest.fixture(autouse=True)
def restore_global_determinism():
    """``deterministic=True`` flips process-wide torch flags; give them back to later tests."""
    saved = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic,
             torch.backends.cudnn.benchmark)
    yield
    torch.use_deterministic_algorithms(saved[0])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[1:]


def _run(work_dir, seed: int):
    cfg = tiny_gan_config(str(work_dir), max_iters=4, interval=100, noise=0.5, use_bn=True)
    cfg['randomness'] = dict(seed=seed, deterministic=True)
    runner = Runner.from_cfg(Config(cfg))
    assert torch.are_deterministic_algorithms_enabled()
    runner.train()
    hook = next(h for h in runner.hooks if type(h).__name__ == 'MMIPoseStateDumpHook')
    with torch.no_grad():
        sample = runner.model.generator_ema(torch.linspace(-1, 1, 8).reshape(2, 4))
    return hook.losses, runner.model.state_dict(), sample


def test_same_seed_same_run(tmp_path):
    losses_a, state_a, sample_a = _run(tmp_path / 'a', seed=3)
    losses_b, state_b, sample_b = _run(tmp_path / 'b', seed=3)
    assert losses_a == losses_b  # exact float equality, every iteration
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), name
    assert torch.equal(sample_a, sample_b)
    # The runs do depend on the seed (shuffling and G's input noise), so equality is not vacuous.
    losses_c, _, _ = _run(tmp_path / 'c', seed=4)
    assert losses_c != losses_a
