"""tools/analysis/smoke_run_stats.py on a CPU, and check_gpu_run.sh's refusal without CUDA."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmipose.testing import smoke_run_stats
from mmipose.testing.config_runs import REPO

BASELINE = osp.join(REPO, 'configs', 'ablations', 'ipose-ablation_oasis-baseline_2xb2-372kiters_cityscapes-256x512.py')


def _distance(a, b):
    return sum(((a[k].double() - b[k].double())**2).sum().item() for k in a)**0.5


@pytest.mark.slow  # two training iterations of a shipped config in-process: ~40 s on 2 cores
@pytest.mark.skipif(torch.cuda.is_available(), reason='the CPU path of the script')
def test_cpu_smoke_run_reports_ema_movement_from_the_saved_weights(tmp_path):
    # the OASIS-baseline row: the cheapest shipped config with an EMA generator (no PartNet, no CLIP)
    result = smoke_run_stats.main([BASELINE, '--work-dir', str(tmp_path), '--device', 'cpu', '--iters', '2'])
    state = torch.load(tmp_path / 'iter_2.pth', map_location='cpu', weights_only=False)['state_dict']
    init = torch.load(tmp_path / 'ema_init.pth', map_location='cpu')
    ema = {k: state['generator_ema.module.' + k] for k in init}
    gen = {k: state['generator.' + k] for k in init}
    assert result['ema_from_init'] == pytest.approx(_distance(ema, init), rel=1e-6)
    assert result['ema_from_generator'] == pytest.approx(_distance(ema, gen), rel=1e-6)
    assert result['generator_from_init'] == pytest.approx(_distance(gen, init), rel=1e-6)
    # the EMA moved and is not a copy of G (the ratio of the two is not asserted: MMEngine's averaged
    # model copies G at its first update, where the reference starts averaging from G's init)
    assert result['ema_from_init'] > 0 and result['ema_from_generator'] > 0
    assert result['device'] == 'cpu' and result['peak_gpu_memory_mb'] is None
    assert result['step_time_first_s'] > 0 and result['step_time_median_s'] > 0
    assert result['peak_rss_mb'] > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the refusal without CUDA')
def test_check_gpu_run_refuses_without_cuda(tmp_path):
    proc = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'analysis', 'check_gpu_run.sh'), BASELINE,
         str(tmp_path)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHON=sys.executable),
        timeout=300)
    assert proc.returncode == 2
    assert 'no CUDA device' in proc.stderr and 'smoke_run_stats.py' in proc.stderr
    assert not os.listdir(tmp_path)  # nothing ran
