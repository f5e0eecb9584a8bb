"""Resume: a resumed run continues exactly where the checkpoint left off (G and D optimizers, EMA,
message hub), in-process and after SIGKILL of ``tools/train.py``."""
import subprocess

import torch
from _resume_helpers import assert_nested_equal, kill_train_tool_after
from _tiny_gan import tiny_gan_config
from mmengine.config import Config
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint


def _run(work_dir, max_iters, resume=False):
    cfg = tiny_gan_config(str(work_dir), max_iters=max_iters, interval=2)
    cfg['resume'] = resume
    runner = Runner.from_cfg(Config(cfg))
    runner.train()
    return runner


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    straight = _run(tmp_path / 'straight', 6)
    _run(tmp_path / 'split', 4)
    resumed = _run(tmp_path / 'split', 6, resume=True)

    # Right after resuming: exactly the state stored in iter_4.pth.
    dumped = torch.load(tmp_path / 'split' / 'state_before_train.pth', weights_only=True)
    saved = _load_checkpoint(str(tmp_path / 'split' / 'iter_4.pth'))
    assert dumped['iter'] == saved['meta']['iter'] == 4
    assert_nested_equal(dumped['state_dict'], saved['state_dict'], 'state_dict')
    assert_nested_equal(dumped['optimizer'], saved['optimizer'], 'optimizer')
    assert set(dumped['optimizer']) == {'generator', 'discriminator'}
    assert dumped['state_dict']['generator_ema.steps'] == 4  # EMA restored, not restarted
    assert dumped['hub_info']['keep_ckpt_ids'] == [2, 4]

    # And training continues as if never interrupted (same data order, same Adam moments).
    assert resumed.iter == straight.iter == 6
    assert_nested_equal(resumed.model.state_dict(), straight.model.state_dict(), 'final')
    assert_nested_equal(resumed.optim_wrapper.state_dict(), straight.optim_wrapper.state_dict(), 'final optimizer')
    hub_r, hub_s = resumed.message_hub, straight.message_hub
    assert hub_r.get_scalar('train/loss_g').current() == hub_s.get_scalar('train/loss_g').current()


def test_sigkill_then_resume_with_train_tool(tmp_path):
    """SIGKILL ``tools/train.py`` mid-run; ``--resume`` restarts at the pointed checkpoint."""
    cfg = tiny_gan_config(str(tmp_path), max_iters=10000, interval=3, sleep=0.02)
    config_path = tmp_path / 'tiny_gan_cfg.py'
    config_path.write_text(Config(cfg).pretty_text)
    cmd, env, latest = kill_train_tool_after(config_path, tmp_path, 'iter_3.pth', timeout=120)
    saved_iter = _load_checkpoint(latest)['meta']['iter']  # complete, loadable file
    assert saved_iter >= 6 and saved_iter % 3 == 0
    saved = _load_checkpoint(latest)

    resumed = subprocess.run(
        cmd + ['--resume', '--cfg-options', f'train_cfg.max_iters={saved_iter + 2}', 'model.sleep=0'],
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    dumped = torch.load(tmp_path / 'state_before_train.pth', weights_only=True)
    assert dumped['iter'] == saved_iter
    assert_nested_equal(dumped['state_dict'], saved['state_dict'], 'state_dict')
    assert_nested_equal(dumped['optimizer'], saved['optimizer'], 'optimizer')
    assert dumped['hub_info']['last_ckpt'] == latest
    final = torch.load(tmp_path / 'after_train_rank0.pth', weights_only=True)
    assert final['iter'] == saved_iter + 2 and len(final['losses']) == 2
