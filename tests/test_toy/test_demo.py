"""The toy demo (mmipose.toy.demo behind tools/demo.py): its parts, and the whole --quick run (the
--eval-every variant is slow)."""
import json
import math
import os.path as osp

import pytest
import torch

from mmipose.toy import demo
from mmipose.toy import stages as demo_stages


def test_stage_log_times_and_returns():
    log = demo.StageLog()
    assert log.run('x', lambda a, b=0: a + b, 1, b=2) == 3
    assert set(log.timings) == {'x'} and log.timings['x'] >= 0 and log.total >= 0


def test_schedules_and_configs_exist():
    for mode in demo.SCHEDULES:
        schedule = demo.get_schedule(mode)
        assert schedule['num_train'] > 0 and schedule['ipose_iters'] > 0
    for config in (demo_stages.PARTNET_CONFIG, demo_stages.IPOSE_CONFIG, demo_stages.SEGMENTER_CONFIG):
        assert osp.isfile(config), config
    args = demo.parse_args(['--quick', '--work-dir', 'x'])
    assert args.quick and args.work_dir == 'x' and args.inception is None and args.eval_every is None
    assert demo.SCHEDULES['long']['eval_every'] > 0 and 'eval_every' not in demo.SCHEDULES['full']
    with pytest.raises(SystemExit):
        demo.parse_args(['--eval-every', '-1'])


def test_full_schedule_runs_the_toy_configs_as_their_names_say():
    import re
    full = demo.get_schedule('full')
    for key, config in (('partnet_iters', demo_stages.PARTNET_CONFIG),
                        ('segmenter_iters', demo_stages.SEGMENTER_CONFIG), ('ipose_iters', demo_stages.IPOSE_CONFIG)):
        named = int(re.search(r'-(\d+)iters_', osp.basename(config)).group(1))
        assert full[key] == named, (key, config)
    assert demo.get_schedule('long')['partnet_iters'] == full['partnet_iters']
    with pytest.raises(ValueError, match='schedule'):
        demo.get_schedule('fast')


def test_long_schedule_and_the_ema_refresh_before_the_saved_checkpoint():
    args = demo.parse_args(['--schedule', 'long'])
    assert args.schedule == 'long'
    assert demo.get_schedule('long')['ipose_iters'] > demo.get_schedule('full')['ipose_iters']
    from mmengine.runner.priority import get_priority

    from mmipose.engine.hooks import AtomicCheckpointHook, EMABNRefreshHook
    for schedule in map(demo.get_schedule, demo.SCHEDULES):
        options = demo_stages.ipose_train_options('data', 'partnet.pth', schedule, seed=0)
        refresh = [h for h in options['custom_hooks'] if h['type'] == 'EMABNRefreshHook']
        # the refresh fires at the last iteration, before the checkpoint of that iteration is written
        assert refresh and refresh[0]['interval'] == schedule['ipose_iters']
        assert options['default_hooks.checkpoint.interval'] == schedule['ipose_iters']
    assert get_priority(EMABNRefreshHook.priority) < get_priority(AtomicCheckpointHook.priority)


def test_ipose_stages_read_the_demo_data_and_never_regenerate_it(tmp_path):
    """Data made with --seed 1 must reach iPOSE training unchanged (the dataset's default seed is 0)."""
    from mmipose.datasets import ToySceneDataset
    from mmipose.datasets.toy import prepare_toy_data
    schedule = dict(num_train=80, num_val=2)
    root = str(tmp_path / 'data')
    prepare_toy_data(root, seed=1, **schedule)
    with open(osp.join(root, 'manifest.json')) as f:
        before = f.read()
    options = demo_stages.ipose_data_options(root, 'partnet.pth', schedule)
    for split in ('train', 'val', 'test'):
        assert options[f'{split}_dataloader.dataset.generate'] is False
    kwargs = {k.split('.')[-1]: v for k, v in options.items() if k.startswith('train_dataloader.dataset.')}
    dataset = ToySceneDataset(split='train', **kwargs)
    assert len(dataset) == 80
    with open(osp.join(root, 'manifest.json')) as f:
        assert f.read() == before  # still the seed-1 data


def test_fid_is_skipped_with_a_reason_without_weights():
    args = demo.parse_args(['--inception', '/nonexistent/pt_inception.pth'])
    result = demo_stages.fid_or_reason(args, [], [], 0)
    assert 'skipped' in result and '--inception' in result['skipped']


@pytest.mark.parametrize('mode', ['default', pytest.param('curve', marks=pytest.mark.slow)])
def test_quick_demo_end_to_end(tmp_path, mode):
    """The whole demo on the quick schedule, as `make demo` runs it; the slow variant also scores
    the val scenes during iPOSE training (--eval-every, as the long schedule does)."""
    extra = ['--eval-every', '1'] if mode == 'curve' else []
    metrics = demo.main(['--quick', '--work-dir', str(tmp_path / 'demo')] + extra)
    if mode == 'curve':
        iters = demo.SCHEDULES['quick']['ipose_iters']
        assert [point['iter'] for point in metrics['ipose_curve']] == list(range(1, iters + 1))
        assert all(0 <= point['mIoU'] <= 100 for point in metrics['ipose_curve'])
        with open(tmp_path / 'demo' / 'ipose_curve.json') as f:
            assert json.load(f) == metrics['ipose_curve']
    else:
        assert 'ipose_curve' not in metrics
    with open(tmp_path / 'demo' / 'metrics.json') as f:
        assert json.load(f) == json.loads(json.dumps(metrics))
    for key, value in metrics['partnet'].items():
        assert math.isfinite(value), key
    for key, value in metrics['synthesis']['segmentation'].items():
        assert math.isfinite(value), key
    assert 'skipped' in metrics['synthesis']['fid']
    grids = [g for g in (tmp_path / 'demo' / 'grids').glob('*.png') if g.name != 'overview.png']
    assert len(grids) == demo.SCHEDULES['quick']['num_grids']
    assert (tmp_path / 'demo' / 'grids' / 'overview.png').is_file()
    for group in ('basis', 'novel'):  # the object-pixel accuracy comes with its constant-part baseline
        if f'{group}_acc' in metrics['partnet']:
            assert 0 <= metrics['partnet'][f'{group}_obj_baseline'] <= 100
    assert set(metrics['segmenter_on_real_val']) >= {'aAcc', 'mIoU'}
    for name in ('multimodal.png', 'part_editing.png'):
        assert (tmp_path / 'demo' / 'editing' / name).is_file()
    assert set(metrics['seconds']) >= {'data', 'partnet', 'ipose', 'segmenter', 'evaluate', 'total'}
    # iPOSE trained under bfloat16 autocast where the CPU has native bf16; PartNet in float32
    from mmengine.config import Config

    from mmipose.utils.precision import bf16_supported
    bf16 = bf16_supported('cpu') and not torch.cuda.is_available()
    assert metrics['ipose_precision'] == ('bf16-autocast' if bf16 else 'fp32')
    ipose_cfg = Config.fromfile(tmp_path / 'demo' / 'ipose' / osp.basename(demo_stages.IPOSE_CONFIG))
    for name in ('generator', 'discriminator'):
        assert ipose_cfg.optim_wrapper[name].get('type', 'OptimWrapper').endswith('CPUAutocastOptimWrapper') == bf16
    partnet_cfg = Config.fromfile(tmp_path / 'demo' / 'partnet' / osp.basename(demo_stages.PARTNET_CONFIG))
    assert partnet_cfg.optim_wrapper.type == 'OptimWrapper'


def test_ipose_training_precision_choice(monkeypatch):
    """bfloat16 autocast only on a CPU with native bf16, and never with --fp32."""
    import mmipose.utils.precision as precision
    monkeypatch.setattr(precision, 'bf16_supported', lambda device: True)
    assert demo.ipose_bf16(demo.parse_args([]))
    assert not demo.ipose_bf16(demo.parse_args(['--fp32']))
    assert not demo.ipose_bf16(demo.parse_args(['--device', 'cuda']))
    monkeypatch.setattr(precision, 'bf16_supported', lambda device: False)
    assert not demo.ipose_bf16(demo.parse_args([]))
