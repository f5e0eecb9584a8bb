"""End to end: runner.test() of the toy iPOSE with FID, object FID, AC / mIoU and saved outputs (slow).

One MultiTestLoop pass of the real (random) toy model: the metrics receive the model's real
outputs through MMagic's evaluator, ``tools/test.py`` writes metrics.json and the outputs hook
its four folders. The SegmentationMetric result is checked against the
toy segmenter run by hand on the images the hook saved.
"""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmipose.apis.runner_cli import parse_test_args, run_test
from mmipose.registry import METRICS, MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_IPOSE = osp.join(ROOT, 'configs', 'toy', 'ipose_tiny_1xb4-600iters_toy-64x128.py')
TOY_SEGMENTER = osp.join(ROOT, 'configs', 'toy', 'segmenter_unet-s16_1xb8-300iters_toy-64x128.py')
pytestmark = pytest.mark.slow


def _rebase(node, old: str, new: str):
    if isinstance(node, dict):
        for key in list(node):
            if isinstance(node[key], str) and node[key].startswith(old):
                node[key] = new + node[key][len(old):]
            else:
                _rebase(node[key], old, new)
    elif isinstance(node, list):
        for item in node:
            _rebase(item, old, new)


def test_toy_runner_test_reports_all_metrics_and_writes_outputs(tmp_path):
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from mmipose.registry import DATASETS
    from mmipose.testing.tiny_inception import save_tiny_inception

    cfg = Config.fromfile(TOY_IPOSE)
    _rebase(cfg._cfg_dict, cfg.data_root, str(tmp_path / 'toy'))
    for loader in (cfg.train_dataloader, cfg.test_dataloader):
        loader.dataset.update(num_train=60, num_val=6)
    cfg.test_dataloader.batch_size = 4  # 6 images: a full and a partial batch
    with DefaultScope.overwrite_default_scope('mmagic'):
        DATASETS.build(cfg.train_dataloader.dataset)  # writes the toy scenes and supports
    inception = save_tiny_inception(tmp_path / 'tiny_inception.pt')
    segmenter = METRICS.build(dict(type='SegmentationMetric', segmenter_config=TOY_SEGMENTER,
                                   allow_random_init=True)).segmenter
    torch.save(dict(state_dict=segmenter.state_dict()), tmp_path / 'segmenter.pth')
    cfg.test_evaluator = dict(
        type='Evaluator',
        metrics=[
            dict(
                type='IPOSEFID',
                prefix='FID',
                fake_nums=-1,
                inception_path=inception,
                inception_pkl=str(tmp_path / 'real.pkl'),
                sample_model='ema'),
            dict(type='ObjectFID', prefix='ObjectFID', inception_path=inception, sample_model='ema'),
            dict(
                type='SegmentationMetric',
                prefix='Seg',
                segmenter_config=TOY_SEGMENTER,
                segmenter_checkpoint=str(tmp_path / 'segmenter.pth'),
                sample_model='ema'),
        ])
    cfg.custom_hooks = [dict(type='IPOSESaveOutputsHook', out_dir='test_outputs', sample_model='ema')]
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = None
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.log_level = 'WARNING'
    config = str(tmp_path / 'ipose_toy_test.py')
    cfg.dump(config)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'ipose.pth')

    metrics = run_test(parse_test_args([config, str(tmp_path / 'ipose.pth'), '--work-dir', str(tmp_path / 'work')]))
    with open(tmp_path / 'work' / 'metrics.json') as f:
        assert json.load(f) == pytest.approx(metrics)
    for key in ('FID/fid', 'ObjectFID/fid', 'Seg/AC', 'Seg/mIoU'):
        assert np.isfinite(metrics[key]), key
    out = tmp_path / 'work' / 'test_outputs'
    names = sorted(osp.basename(p) for p in glob.glob(str(out / 'image' / '*.png')))
    assert len(names) == 6
    for sub in ('label', 'part', 'part_ids'):
        assert sorted(osp.basename(p) for p in glob.glob(str(out / sub / '*.png'))) == names

    # AC / mIoU again, by hand, from the saved 8-bit images and the toy labels
    dataset = Runner.build_dataloader(cfg.test_dataloader).dataset
    confusion = np.zeros((10, 10), np.int64)
    for i in range(len(dataset)):
        sample = dataset[i]
        name = sample['data_samples'].metainfo['image_name']
        bgr = cv2.imread(str(out / 'image' / (osp.splitext(name)[0] + '.png')))
        label = sample['inputs']['label'].numpy()[0]
        x = torch.from_numpy(bgr).permute(2, 0, 1)[None].float()
        x = (x[:, [2, 1, 0]] - 127.5) / 127.5
        with torch.no_grad():
            pred = segmenter(x, mode='tensor').argmax(1).numpy()[0]
        np.add.at(confusion, (label.ravel(), pred.ravel()), 1)
    correct = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - correct
    assert metrics['Seg/AC'] == pytest.approx(100 * correct.sum() / confusion.sum(), abs=0.5)
    assert metrics['Seg/mIoU'] == pytest.approx(100 * np.mean(correct[union > 0] / union[union > 0]), abs=1.0)
