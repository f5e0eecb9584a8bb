"""NaNGuardHook: stop with a clear message or skip the bad iteration; nothing non-finite is kept."""
import os.path as osp

import pytest
import torch
from _tiny_gan import tiny_gan_config
from mmengine.config import Config
from mmengine.runner import Runner

from mmipose.engine.hooks import NaNGuardHook, NonFiniteCheckpointError, NonFiniteLossError
from mmipose.engine.optim_wrappers import CPUAutocastOptimWrapper, NaNSkipOptimWrapper
from mmipose.utils.checkpoint import find_non_finite_tensors


def _guard_wrappers(cfg: dict) -> None:
    for key in ('generator', 'discriminator'):
        cfg['optim_wrapper'][key]['type'] = 'NaNSkipOptimWrapper'


def _runner(work_dir, max_iters, guard=None, poison_index=5, use_bn=True) -> Runner:
    """Batches of 2 in order: sample 5 (NaN input) is in the 3rd batch (iteration 3).

    With a ``guard`` the optimizer wrappers are NaNSkipOptimWrappers, as in the iPOSE configs.
    """
    cfg = tiny_gan_config(str(work_dir), max_iters=max_iters, interval=2, use_bn=use_bn)
    cfg['train_dataloader']['sampler']['shuffle'] = False
    cfg['train_dataloader']['dataset']['poison_index'] = poison_index
    if guard is not None:
        cfg['custom_hooks'].append(dict(type='NaNGuardHook', **guard))
        _guard_wrappers(cfg)
    return Runner.from_cfg(Config(cfg))


def test_stop_names_loss_and_iteration(tmp_path):
    runner = _runner(tmp_path, max_iters=6, guard=dict(action='stop'))
    with pytest.raises(NonFiniteLossError, match=r'iteration 3: loss_g=nan, loss_d=nan') as err:
        runner.train()
    assert 'optimizer step skipped' in str(err.value)
    # The guarded steps kept the parameters finite, and the last checkpoint is the good iter_2.
    assert find_non_finite_tensors(dict(runner.model.named_parameters()))[1] == 0
    with open(tmp_path / 'last_checkpoint') as f:
        assert osp.basename(f.read().strip()) == 'iter_2.pth'


def test_without_guard_nan_reaches_parameters_but_not_checkpoints(tmp_path):
    """The failure the guard prevents: one NaN batch poisons G's weights. Even then the
    checkpoint hook refuses to write the poisoned state over the good iter_2."""
    runner = _runner(tmp_path, max_iters=3)
    with pytest.raises(NonFiniteCheckpointError, match=r'iteration 3 .*generator\.0\.weight'):
        runner.train()  # the final checkpoint (save_last) at iteration 3
    assert find_non_finite_tensors(runner.model.state_dict())[1] > 0
    assert not osp.exists(tmp_path / 'iter_3.pth')
    with open(tmp_path / 'last_checkpoint') as f:
        assert osp.basename(f.read().strip()) == 'iter_2.pth'


def test_skip_leaves_state_as_before_the_bad_iteration(tmp_path):
    before = _runner(tmp_path / 'two', max_iters=2)
    before.train()
    runner = _runner(tmp_path / 'skip', max_iters=3, guard=dict(action='skip'))
    runner.train()
    assert runner.iter == 3
    assert runner.message_hub.get_info('nan_guard_skips') == 1
    state = runner.model.state_dict()
    assert find_non_finite_tensors(state)[1] == 0
    # G and D (parameters, BN running stats, spectral-norm vectors) and both Adam states are
    # exactly those after iteration 2; only the EMA averaged once more (towards the same G).
    for name, value in before.model.state_dict().items():
        if not name.startswith('generator_ema'):
            assert torch.equal(state[name], value), name
    for key in ('generator', 'discriminator'):
        a = runner.optim_wrapper[key].optimizer.state_dict()['state']
        b = before.optim_wrapper[key].optimizer.state_dict()['state']
        for idx in b:
            for k in b[idx]:
                assert torch.equal(a[idx][k], b[idx][k]), (key, idx, k)


def test_skip_training_continues_after_bad_batch(tmp_path):
    runner = _runner(tmp_path, max_iters=6, guard=dict(action='skip'))
    runner.train()
    assert runner.iter == 6 and runner.message_hub.get_info('nan_guard_skips') == 1
    assert find_non_finite_tensors(runner.model.state_dict())[1] == 0
    assert osp.isfile(tmp_path / 'iter_6.pth')


def test_skip_gives_up_after_consecutive_bad_iterations(tmp_path):
    runner = _runner(tmp_path, max_iters=6, guard=dict(action='skip', max_consecutive_skips=1))
    with pytest.raises(NonFiniteLossError, match='1 consecutive iterations'):
        runner.train()


def test_only_selected_keys_are_checked(tmp_path):
    hook = NaNGuardHook(keys=['loss_g'])

    class _Runner:
        iter = 0
        model = torch.nn.Linear(1, 1)

    hook.before_train_iter(_Runner(), 0)
    hook.after_train_iter(_Runner(), 0, outputs=dict(loss_g=torch.tensor(1.0), loss_d=float('nan')))
    with pytest.raises(NonFiniteLossError, match=r'iteration 1: loss_g=inf'):
        hook.after_train_iter(_Runner(), 0, outputs=dict(loss_g=float('inf')))


def test_bad_action_is_rejected():
    with pytest.raises(ValueError, match="'stop' or 'skip'"):
        NaNGuardHook(action='ignore')


def test_runtime_default_hooks_guard_and_checkpoint(tmp_path):
    """The GAN runtime's default_hooks (AtomicCheckpointHook + NaNGuardHook) on a real Runner."""
    runtime = Config.fromfile(osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_', 'default_runtime.py'))
    cfg = tiny_gan_config(str(tmp_path), max_iters=4, use_bn=True)
    cfg['train_dataloader']['sampler']['shuffle'] = False
    cfg['train_dataloader']['dataset']['poison_index'] = 5
    cfg['default_hooks'] = runtime.default_hooks.to_dict()
    cfg['default_hooks']['checkpoint']['interval'] = 2
    cfg['default_hooks']['logger']['interval'] = 1
    _guard_wrappers(cfg)
    runner = Runner.from_cfg(Config(cfg))
    assert {type(h).__name__ for h in runner.hooks} >= {'AtomicCheckpointHook', 'NaNGuardHook'}
    with pytest.raises(NonFiniteLossError, match='iteration 3'):
        runner.train()
    with open(tmp_path / 'last_checkpoint') as f:
        assert osp.basename(f.read().strip()) == 'iter_2.pth'


@pytest.mark.parametrize('wrapper_type', [NaNSkipOptimWrapper, CPUAutocastOptimWrapper])
def test_wrapper_skips_only_non_finite_steps(wrapper_type):
    """A finite step equals plain SGD; a step with one NaN gradient entry changes nothing and
    zeroes the gradients."""
    layer = torch.nn.Linear(2, 2)
    wrapper = wrapper_type(optimizer=torch.optim.SGD(layer.parameters(), lr=0.5))
    before = [p.detach().clone() for p in layer.parameters()]
    layer(torch.ones(1, 2)).sum().backward()
    grads = [p.grad.clone() for p in layer.parameters()]
    wrapper.step()
    for p, b, g in zip(layer.parameters(), before, grads):
        assert torch.equal(p.detach(), b - 0.5 * g)
    assert wrapper.skipped_steps == 0
    after_good = [p.detach().clone() for p in layer.parameters()]
    wrapper.zero_grad()
    layer(torch.ones(1, 2)).sum().backward()
    layer.bias.grad[0] = float('nan')
    wrapper.step()
    assert wrapper.skipped_steps == 1
    for p, b in zip(layer.parameters(), after_good):
        assert torch.equal(p.detach(), b)
        assert p.grad is None or not p.grad.any()


def test_unguarded_wrapper_is_named_in_a_warning(tmp_path):
    """A plain OptimWrapper cannot skip steps: the hook says which wrapper and what to set."""
    cfg = tiny_gan_config(str(tmp_path), max_iters=1, interval=2)
    cfg['custom_hooks'].append(dict(type='NaNGuardHook'))
    cfg['optim_wrapper']['generator']['type'] = 'NaNSkipOptimWrapper'
    runner = Runner.from_cfg(Config(cfg))
    messages = []
    runner.logger.warning = messages.append
    runner.train()
    unguarded = [m for m in messages if 'NaNGuardHook: optim_wrapper' in m]
    assert len(unguarded) == 1 and "'discriminator' is a OptimWrapper" in unguarded[0]
    assert 'NaNSkipOptimWrapper' in unguarded[0]
