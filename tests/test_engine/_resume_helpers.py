"""Shared by the resume tests: nested equality of saved states and a SIGKILLed ``tools/train.py``."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from typing import List, Tuple

import torch

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def assert_nested_equal(a, b, where: str = '') -> None:
    """Tensors equal to the bit, containers key by key / item by item, other values by ``==``."""
    if torch.is_tensor(a):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert set(a) == set(b), where
        for key in a:
            assert_nested_equal(a[key], b[key], f'{where}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_nested_equal(x, y, f'{where}[{i}]')
    else:
        assert a == b, where


def kill_train_tool_after(config_path: str, work_dir: str, first_checkpoint: str,
                          timeout: float) -> Tuple[List[str], dict, str]:
    """Run ``tools/train.py`` and SIGKILL it (possibly mid-write) once ``last_checkpoint`` names
    a checkpoint later than ``first_checkpoint``.

    Returns:
        tuple: the command, its environment (to rerun it with ``--resume``) and the checkpoint
        path ``last_checkpoint`` holds after the kill.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([osp.dirname(__file__), ROOT]), OMP_NUM_THREADS='1')
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), str(config_path), '--work-dir', str(work_dir)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pointer = osp.join(str(work_dir), 'last_checkpoint')
    deadline = time.time() + timeout
    try:
        while time.time() < deadline and proc.poll() is None:
            if osp.exists(pointer) and osp.basename(open(pointer).read().strip()) not in (first_checkpoint, ''):
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    return cmd, env, open(pointer).read().strip()
