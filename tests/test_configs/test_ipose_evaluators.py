"""The real-dataset iPOSE configs validate with FID + object FID and test with AC / mIoU too."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmipose.evaluation.segmenter_class_maps import resolve_class_map

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'ipose', '*.py')) + glob.glob(osp.join(ROOT, 'configs', 'ablations', '*.py')))
CLASS_MAP_OF_DATASET = dict(
    IPOSECityscapesDataset='cityscapes', IPOSEADE20KDataset='ade20k', IPOSECocoStuffDataset='coco_stuff')


def test_every_dataset_has_an_ipose_config():
    assert len(CONFIGS) == 8


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_val_and_test_evaluators(path):
    cfg = Config.fromfile(path)
    val_types = [m['type'] for m in cfg.val_evaluator['metrics']]
    test_metrics = cfg.test_evaluator['metrics']
    assert val_types == ['IPOSEFID', 'ObjectFID']  # the segmenter only runs at test time
    assert [m['type'] for m in test_metrics] == ['IPOSEFID', 'ObjectFID', 'SegmentationMetric']
    assert cfg.default_hooks['checkpoint']['save_best'] == 'FID/fid'

    seg = test_metrics[2]
    dataset = cfg.test_dataloader['dataset']['type']
    assert seg['class_map'] == CLASS_MAP_OF_DATASET[dataset]
    # one class-map entry per label value the generator is conditioned on
    assert len(resolve_class_map(seg['class_map'])) == cfg.model['num_classes']
    assert seg['segmenter_config'].startswith('mmseg::')
    assert seg['segmenter_checkpoint'].startswith('checkpoints/')
