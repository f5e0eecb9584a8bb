"""``import mmipose`` registers modules and installs the mmcv-lite guard, and changes nothing else in the
process: no denormal flush, no umask change, no torch safe-globals."""
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# A fresh interpreter: this test process has imported mmipose long ago (conftest).
PROBE = r'''
import os, sys, torch
torch.set_flush_denormal(False)
os.umask(0o027)
tiny = torch.tensor([1e-39], dtype=torch.float32)  # a denormal: kept unless denormals are flushed
import mmipose  # noqa
import mmipose.apis, mmipose.engine, mmipose.evaluation  # noqa
assert float(tiny * 1.0) != 0.0, 'import mmipose flushed denormals'
mask = os.umask(0o027)
assert mask == 0o027, f'import mmipose changed the umask to {mask:o}'
from mmengine.logging.history_buffer import HistoryBuffer
assert HistoryBuffer not in torch.serialization.get_safe_globals(), 'import mmipose allow-listed MMEngine checkpoints'
from mmipose.engine.hooks.atomic_checkpoint_hook import process_umask
assert process_umask() == 0o027, process_umask()
assert os.umask(0o027) == 0o027  # reading it did not change it
from mmipose.utils import setup_entry_point
setup_entry_point('cpu')
assert float(tiny * 1.0) == 0.0 and HistoryBuffer in torch.serialization.get_safe_globals()
print('ok')
'''


def test_import_mmipose_leaves_denormals_umask_and_safe_globals_alone():
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''), OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith('ok'), proc.stderr[-3000:]
