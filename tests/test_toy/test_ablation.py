"""The toy ablation (mmipose.toy.ablation behind tools/analysis/toy_ablation.py): metric helpers against
direct re-implementations, the baseline's config overrides, clear errors; the whole --quick run is marked slow."""
import json
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch

from mmipose.toy import ablation
from mmipose.toy import ablation_metrics as metrics


# ------------------------------------------------------------------ part accuracy on object pixels
def test_object_part_accuracy_counts_only_object_pixels():
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 6, size=(3, 16, 24))
    pred = np.where(rng.random(gt.shape) < 0.6, gt, rng.integers(0, 6, size=gt.shape))
    correct = counted = 0
    for g, p in zip(gt.ravel(), pred.ravel()):  # direct count, pixel by pixel
        if g > 0:
            counted += 1
            correct += int(g == p)
    assert metrics.object_part_accuracy(pred, gt) == (correct, counted)
    # background predictions never count, right or wrong
    assert metrics.object_part_accuracy(np.zeros((2, 2)), np.zeros((2, 2))) == (0, 0)
    assert metrics.object_part_accuracy(np.array([[0, 1], [2, 2]]), np.array([[0, 1], [2, 3]])) == (2, 3)
    with pytest.raises(ValueError, match='differ'):
        metrics.object_part_accuracy(np.zeros((2, 2)), np.zeros((2, 3)))


# ------------------------------------------------------------------ Fréchet distance
def _frechet_direct(a: np.ndarray, b: np.ndarray) -> float:
    """Tr((S_a S_b)^(1/2)) as the trace of (S_a^(1/2) S_b S_a^(1/2))^(1/2), from eigendecompositions."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a = (a - mu_a).T @ (a - mu_a) / (len(a) - 1)
    s_b = (b - mu_b).T @ (b - mu_b) / (len(b) - 1)
    w, v = np.linalg.eigh(s_a)
    root_a = v @ np.diag(np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    trace_root = np.sqrt(np.clip(inner, 0, None)).sum()
    return float(((mu_a - mu_b)**2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * trace_root)


def test_frechet_distance_matches_the_direct_formula():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    b = rng.normal(loc=0.7, size=(250, 5)) @ rng.normal(size=(5, 5))
    assert metrics.frechet_distance(a, b) == pytest.approx(_frechet_direct(a, b), rel=1e-6)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # one dimension: (m_a - m_b)^2 + (s_a - s_b)^2
    x, y = rng.normal(1.0, 2.0, size=(400, 1)), rng.normal(-0.5, 0.5, size=(400, 1))
    closed = (x.mean() - y.mean())**2 + (x.std(ddof=1) - y.std(ddof=1))**2
    assert metrics.frechet_distance(x, y) == pytest.approx(closed, rel=1e-6)


def test_frechet_distance_with_fewer_samples_than_dimensions_is_finite():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(10, 32)), rng.normal(size=(12, 32))
    value = metrics.frechet_distance(a, b)
    assert math.isfinite(value) and value == pytest.approx(_frechet_direct(a, b), rel=1e-3)
    with pytest.raises(ValueError, match='feature sets'):
        metrics.frechet_distance(a, rng.normal(size=(10, 8)))


# ------------------------------------------------------------------ object crops
def _scene():
    inst = np.full((20, 30), 3, np.uint16)  # stuff (road) everywhere
    inst[:5] = 1  # sky: stuff too
    inst[2:10, 4:9] = 6001  # person, 8x5
    inst[12:19, 10:25] = 7001  # car, 7x15, partly covered below
    inst[15:17, 12:14] = 9001  # a tiny tree in front of it: 2x2, below the minimum extent
    inst[0:6, 25:30] = 7002  # another car touching the border
    return inst


def test_object_rows_from_an_instance_map():
    inst = _scene()
    rows = metrics.object_rows(inst)
    assert rows.shape[1] == 8
    assert sorted(rows[:, 0].tolist()) == [6001, 7001, 7002]  # the 2x2 tree is left out
    for value, label, hs, he, ws, we, *_ in rows.tolist():
        ys, xs = np.nonzero(inst == value)
        assert label == value // 1000
        # the box holds every pixel of the object and stays inside the image
        assert hs <= ys.min() and he >= ys.max() and ws <= xs.min() and we >= xs.max()
        assert 0 <= hs and he <= inst.shape[0] and 0 <= ws and we <= inst.shape[1]
    assert metrics.object_rows(np.full((4, 4), 3)).shape == (0, 8)
    with pytest.raises(ValueError, match='instance map'):
        metrics.object_rows(np.zeros((1, 4, 4)))


def test_object_crops_show_the_object():
    inst = _scene()
    rows = metrics.object_rows(inst)
    image = torch.zeros(3, 20, 30)
    colour = torch.tensor([10.0, 20.0, 30.0]).view(3, 1, 1)
    image[:, 2:10, 4:9] = colour  # the person in one colour
    crops = metrics.object_crops(image, rows, 8)
    assert crops.shape == (len(rows), 3, 8, 8)
    person = crops[rows[:, 0].tolist().index(6001)]
    # a tall box is padded to a square left and right: the centre column is the object
    assert torch.allclose(person[:, :, 4], colour[:, :, 0].expand(3, 8))
    assert metrics.object_crops(image, np.zeros((0, 8), np.int64), 8).shape == (0, 3, 8, 8)


def test_mean_spread():
    stats = metrics.mean_spread([1.0, 2.0, 6.0])
    assert stats == pytest.approx(dict(mean=3.0, std=float(np.std([1.0, 2.0, 6.0])), min=1.0, max=6.0))
    with pytest.raises(ValueError):
        metrics.mean_spread([])


# ------------------------------------------------------------------ the baseline and the tool
def test_baseline_differs_only_in_the_part_input():
    from mmengine.config import Config

    from mmipose.toy import demo
    from mmipose.toy import stages as demo_stages
    schedule = ablation.demo_schedule(quick=False, iters=None)
    assert schedule['ipose_iters'] == demo.get_schedule('full')['ipose_iters']  # read at run time
    assert ablation.demo_schedule(quick=True, iters=7)['ipose_iters'] == 7
    base = demo_stages.ipose_train_options('data', 'partnet.pth', schedule, seed=3)
    ipose, oasis = ablation.model_options('ipose', base), ablation.model_options('oasis', base)
    read_only = {f'{split}_dataloader.dataset.generate': False for split in ('train', 'val', 'test')}
    assert ipose == dict(base, **read_only)  # the prepared data are never regenerated
    assert {k: v for k, v in oasis.items() if k not in ablation.BASELINE_OPTIONS} == \
        {k: v for k, v in ipose.items() if not k.startswith('model.part_inferencer')}
    configs = {}
    for name, options in (('ipose', ipose), ('oasis', oasis)):
        cfg = Config.fromfile(demo_stages.IPOSE_CONFIG)
        cfg.merge_from_dict(options)
        configs[name] = cfg
    assert configs['oasis'].model.part_inferencer is None
    assert configs['oasis'].model.generator.part_injection == 'none'
    assert configs['ipose'].model.generator.get('part_injection', 'psm') == 'psm'
    # everything else identical: discriminator (global head included), losses, optimizers, data, schedule
    for key in ('discriminator', 'loss_config', 'ema_config', 'num_classes'):
        assert configs['oasis'].model[key] == configs['ipose'].model[key], key
    gen_o = {k: v for k, v in configs['oasis'].model.generator.items() if k != 'part_injection'}
    gen_i = {k: v for k, v in configs['ipose'].model.generator.items() if k != 'part_injection'}
    assert gen_o == gen_i
    for key in ('optim_wrapper', 'train_dataloader', 'val_dataloader', 'train_cfg', 'randomness', 'custom_hooks'):
        assert configs['oasis'][key] == configs['ipose'][key], key
    assert configs['oasis'].randomness.seed == 3
    with pytest.raises(ValueError, match="'ipose' or 'oasis'"):
        ablation.model_options('spade', base)


def test_baseline_model_builds_without_parts():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmipose.registry import MODELS
    from mmipose.toy import stages as demo_stages
    cfg = Config.fromfile(demo_stages.IPOSE_CONFIG)
    cfg.merge_from_dict(ablation.model_options('oasis', {}))
    init_default_scope('mmagic')
    model = MODELS.build(cfg.model).eval()
    assert model.part_inferencer is None and model.generator.part_injection == 'none'
    assert model.discriminator.use_global_head
    label = torch.randint(1, 10, (1, 1, 64, 128))
    data = dict(
        inputs=dict(label=[label[0]], inst=[label[0]], z=[torch.zeros(model.generator.z_dim)]), data_samples=None)
    from mmagic.structures import DataSample
    data['data_samples'] = [DataSample(metainfo=dict(objects=np.zeros((0, 8), np.int64)))]
    out = model.val_step(data)[0]
    assert out.fake_img.shape == (3, 64, 128) and torch.isfinite(out.fake_img).all()
    assert int(out.pred_parts.abs().sum()) == 0  # no part map


def test_missing_demo_dir_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        ablation.demo_inputs(str(tmp_path / 'nope'))
    demo_dir = tmp_path / 'demo'
    (demo_dir / 'data').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='manifest.json'):
        ablation.demo_inputs(str(demo_dir))
    (demo_dir / 'data' / 'manifest.json').write_text(json.dumps(dict(params=dict(num_train=4, num_val=2))))
    with pytest.raises(FileNotFoundError, match=r'partnet[/\\]partnet_toy\.pth'):
        ablation.demo_inputs(str(demo_dir))
    (demo_dir / 'partnet').mkdir()
    (demo_dir / 'partnet' / 'partnet_toy.pth').write_bytes(b'x')
    (demo_dir / 'segmenter').mkdir()
    with pytest.raises(FileNotFoundError, match=r'segmenter[/\\]last_checkpoint'):
        ablation.demo_inputs(str(demo_dir))
    # a demo dir that was moved: last_checkpoint names the old path, the file is found by its name
    (demo_dir / 'segmenter' / 'iter_300.pth').write_bytes(b'x')
    (demo_dir / 'segmenter' / 'last_checkpoint').write_text('/elsewhere/segmenter/iter_300.pth')
    found = ablation.demo_inputs(str(demo_dir))
    assert found['segmenter'] == str(demo_dir / 'segmenter' / 'iter_300.pth')
    assert found['partnet'] == str(demo_dir / 'partnet' / 'partnet_toy.pth')
    assert found['part_segmenter'] is None and found['manifest']['params']['num_val'] == 2


def test_arguments_are_checked():
    args = ablation.parse_args([])
    assert args.seeds == [0, 1, 2] and args.iters is None and not args.quick
    for bad in (['--iters', '0'], ['--crop-size', '20'], ['--seeds', '1', '1']):
        with pytest.raises(SystemExit):
            ablation.parse_args(bad)


@pytest.mark.slow
def test_quick_ablation_end_to_end(tmp_path):
    work = tmp_path / 'ablation'
    result = ablation.main(['--quick', '--seeds', '0', '1', '--work-dir', str(work), '--num-show', '2'])
    with open(work / 'ablation.json') as f:
        saved = json.load(f)
    assert saved == json.loads(json.dumps(result))
    assert set(saved['runs']) == {'ipose', 'oasis'}
    for model in ('ipose', 'oasis'):
        assert set(saved['runs'][model]) == {'0', '1'}
        for seed, values in saved['runs'][model].items():
            assert set(values) >= set(ablation.METRICS)
            for key in ablation.METRICS:
                assert math.isfinite(values[key]), (model, seed, key)
            assert 0 <= values['part_acc'] <= 100 and 0 <= values['AC'] <= 100 and values['object_fd'] >= 0
            assert values['object_crops'] > 1
        for key in ablation.METRICS:
            per_seed = [saved['runs'][model][s][key] for s in ('0', '1')]
            assert saved['summary'][model][key]['mean'] == pytest.approx(np.mean(per_seed))
    table = (work / 'ablation.md').read_text()
    assert 'iPOSE' in table and 'OASIS baseline' in table and '[0, 1]' in table
    rows = [line for line in table.splitlines() if line.startswith('| ') and '±' in line]
    assert len(rows) == len(ablation.METRICS) and all(row.count('±') == 2 for row in rows)  # iPOSE and OASIS cells
    assert 'bottleneck' in saved['features']
    assert osp.getsize(work / 'ablation.png') > 0
    # PartNet, the scene and the part segmenter are trained once, the GANs once per (model, seed)
    assert sorted(d for d in os.listdir(work) if osp.isdir(work / d)) == sorted(
        ['data', 'partnet', 'segmenter', 'part_segmenter', 'ipose_seed0', 'ipose_seed1', 'oasis_seed0', 'oasis_seed1'])
