"""Every shipped training config, launched as users launch it: ``tools/train.py`` until every hook
has fired, ``--resume`` for one more round, then ``tools/test.py`` with its metrics.

Each run uses tiny data in the dataset's real on-disk format and overrides only widths, image size,
iteration counts, hook intervals and data / checkpoint / support paths (``mmipose.testing.config_runs``).
The Cityscapes config runs in the default suite; the others are slow.
"""
import glob
import json
import math
import os.path as osp
import re

import cv2
import pytest

from mmipose.testing.config_runs import REPO, checkpoint_iter, latest_run, prepare_run, run_tool

IPOSE = sorted(glob.glob(osp.join(REPO, 'configs', 'ipose', '*.py')))
ABLATIONS = sorted(glob.glob(osp.join(REPO, 'configs', 'ablations', '*.py')))
PARTNET = osp.join(REPO, 'configs', 'partnet', 'partnet_1xb6-500e_parts-64x64.py')
DEFAULT = osp.join(REPO, 'configs', 'ipose', 'ipose_2xb2-372kiters_cityscapes-256x512.py')


def _param(config):
    marks = () if config == DEFAULT else (pytest.mark.slow, )
    return pytest.param(config, marks=marks, id=osp.splitext(osp.basename(config))[0])


def _train(config, work_dir, opts, extra=()):
    return run_tool(['tools/train.py', config, '--work-dir', work_dir, *extra, '--cfg-options', *opts])


def _finite_numbers(metrics: dict, keys):
    for key in keys:
        assert isinstance(metrics.get(key), (int, float)) and math.isfinite(metrics[key]), (key, metrics)


def _with(opts, **values):
    """``opts`` with the given ``key=value`` entries replaced (keys use '__' for '.')."""
    values = {k.replace('__', '.'): v for k, v in values.items()}
    return [o for o in opts if o.split('=', 1)[0] not in values] + [f'{k}={v}' for k, v in values.items()]


@pytest.mark.parametrize('config', [_param(c) for c in IPOSE + ABLATIONS])
def test_ipose_config_trains_resumes_and_tests(config, tmp_path):
    opts = prepare_run(config, str(tmp_path), iters=1, interval=1)
    work = str(tmp_path / 'work')

    # 1) train 1 iteration: logger, EMA BN refresh, checkpoint, sample grid and validation all fire
    _train(config, work, opts)
    log, records = latest_run(work)
    assert 'Iter(train) [1/1]' in log and 'loss_g:' in log
    assert 'EMABNRefreshHook: refreshed EMA generator statistics on 2 training batches after 1 ' \
           'iterations' in log
    grid = cv2.imread(osp.join(work, 'samples', 'iter_1.png'))
    assert grid is not None and grid.shape[0] >= 3 * 64 and grid.std() > 0  # 3 val maps
    val = [r for r in records if 'FID/fid' in r]
    assert [r['step'] for r in val] == [1]
    _finite_numbers(val[0], ['FID/fid', 'ObjectFID/fid'])
    assert osp.isfile(osp.join(work, 'best_FID_fid_iter_1.pth'))
    assert checkpoint_iter(osp.join(work, 'iter_1.pth')) == 1

    # 2) resume from iter_1 for one more iteration (validated and checkpointed again)
    _train(config, work, _with(opts, train_cfg__max_iters=2), extra=['--resume'])
    log, records = latest_run(work)
    assert 'resumed epoch: 0, iter: 1' in log
    # the data order continues without re-reading the trained batch (ResumableIterBasedTrainLoop)
    assert 'Resumed data order at global sample' in log and 'Advance dataloader' not in log
    assert 'Iter(train) [2/2]' in log and 'Iter(train) [1/2]' not in log
    assert [r['step'] for r in records if 'FID/fid' in r] == [2]
    assert checkpoint_iter(osp.join(work, 'iter_2.pth')) == 2

    # 3) evaluate the resumed checkpoint: FID, object FID and the segmenter's AC / mIoU
    test_dir = str(tmp_path / 'test')
    run_tool(['tools/test.py', config, osp.join(work, 'iter_2.pth'), '--work-dir', test_dir, '--cfg-options', *opts])
    with open(osp.join(test_dir, 'metrics.json')) as f:
        metrics = json.load(f)
    _finite_numbers(metrics, ['FID/fid', 'ObjectFID/fid', 'Seg/AC', 'Seg/mIoU'])
    assert 0 <= metrics['Seg/AC'] <= 100 and 0 <= metrics['Seg/mIoU'] <= 100
    assert len(glob.glob(osp.join(test_dir, 'test_outputs', 'image', '*.png'))) == 3


@pytest.mark.slow
def test_partnet_config_trains_resumes_and_tests(tmp_path):
    opts = prepare_run(PARTNET, str(tmp_path), iters=2, interval=1)
    work = str(tmp_path / 'work')
    _train(PARTNET, work, opts)
    log, records = latest_run(work)
    assert re.search(r'Epoch\(train\) +\[1\]\[', log) and re.search(r'Epoch\(train\) +\[2\]\[', log)
    for epoch in (1, 2):
        assert osp.isfile(osp.join(work, f'epoch_{epoch}.pth'))
    val = [r for r in records if 'PartAccuracy/basis_acc' in r]
    assert [r['epoch'] if 'epoch' in r else r['step'] for r in val] == [1, 2]
    for record in val:
        _finite_numbers(record, ['PartAccuracy/basis_acc', 'PartAccuracy/novel_acc'])
    assert glob.glob(osp.join(work, 'best_PartAccuracy_basis_acc_epoch_*.pth'))

    _train(PARTNET, work, _with(opts, train_cfg__max_epochs=3), extra=['--resume'])
    log, _ = latest_run(work)
    assert 'resumed epoch: 2, iter:' in log and re.search(r'Epoch\(train\) +\[3\]\[', log)
    assert not re.search(r'Epoch\(train\) +\[1\]\[', log)

    test_dir = str(tmp_path / 'test')
    run_tool(['tools/test.py', PARTNET, osp.join(work, 'epoch_3.pth'), '--work-dir', test_dir, '--cfg-options', *opts])
    with open(osp.join(test_dir, 'metrics.json')) as f:
        metrics = json.load(f)
    _finite_numbers(metrics, ['PartAccuracy/basis_acc', 'PartAccuracy/novel_acc'])


@pytest.mark.slow
def test_cityscapes_config_through_dist_train_sh_on_two_cpu_processes(tmp_path):
    """``tools/dist_train.sh CONFIG 2``: gloo on CPU, the config's own workers and samplers."""
    import socket
    import subprocess
    import sys

    import torch

    from mmipose.testing.config_runs import tool_env
    opts = prepare_run(DEFAULT, str(tmp_path), iters=2, interval=2)
    work = str(tmp_path / 'work')
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    proc = subprocess.run(['bash', 'tools/dist_train.sh', DEFAULT, '2', '--work-dir', work, '--cfg-options', *opts],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          env=dict(tool_env(), PORT=str(port), PYTHON=sys.executable),
                          timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    log, records = latest_run(work)
    # torchrun fails the job if any rank fails; rank 0 logs the world and its gloo process group
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    assert 'distributed training on CPU with the gloo backend (rank 0 of 2)' in proc.stdout + proc.stderr
    assert 'Iter(train) [2/2]' in log
    assert [r['step'] for r in records if 'FID/fid' in r] == [2]
    checkpoint = torch.load(osp.join(work, 'iter_2.pth'), map_location='cpu', weights_only=False)
    state = checkpoint['state_dict']
    assert checkpoint['meta']['iter'] == 2
    assert not any(k.startswith('module.') or '.module.module.' in k for k in state)  # unwrapped
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())
    # the DDP checkpoint is an ordinary one: a single process resumes it and evaluates
    _train(DEFAULT, work, _with(opts, train_cfg__max_iters=3), extra=['--resume'])
    resumed_log = latest_run(work)[0]
    assert 'resumed epoch: 0, iter: 2' in resumed_log
    # 2 ranks x batch 2 trained 2 iterations: one process continues at global sample 8, with a warning
    assert 'Resumed data order at global sample 8 (iteration 2, world size 1, batch size 2)' in resumed_log
    assert 'the checkpoint trained with 2 x 2' in resumed_log
