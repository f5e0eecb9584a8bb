"""A segmenter checkpoint written by MMEngine's Runner loads in a fresh process (torch's weights-only default).

The suite's conftest allow-lists MMEngine checkpoints for the whole test process (it is an entry point),
which hid that build_segmenter relied on a tool having done it: tools/analysis/toy_ablation.py failed.
So this runs in a process of its own.
"""
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'toy', 'segmenter_unet-s16_1xb8-300iters_toy-64x128.py')

SCRIPT = '''
import sys
import torch
from mmengine.logging.history_buffer import HistoryBuffer
import mmipose
from mmipose.evaluation.mmseg_segmenter import build_segmenter
config, path = sys.argv[1:]
model = build_segmenter(config, None, allow_random_init=True)
hub = dict(log_scalars=dict(loss=HistoryBuffer([0.5, 0.25], [1, 1])))
torch.save(dict(state_dict=model.state_dict(), message_hub=hub), path)
with torch.no_grad():
    for p in model.parameters():
        p.add_(1.0)
loaded = build_segmenter(config, path)
reference = torch.load(path, weights_only=False)['state_dict']  # trusted: written just above
assert all(torch.equal(loaded.state_dict()[k], v) for k, v in reference.items())  # the file's weights
assert not torch.equal(next(loaded.parameters()), next(model.parameters()))  # not the changed model's
print('loaded', len(reference))
'''


def test_runner_written_segmenter_checkpoint_loads_without_an_entry_point(tmp_path):
    out = subprocess.run(
        [sys.executable, '-c', SCRIPT, CONFIG, str(tmp_path / 'seg.pth')], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().startswith('loaded ')
