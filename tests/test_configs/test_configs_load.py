"""Every shipped config loads, and its model / dataset types are registered components."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

import mmipose.registry as registry

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
                 if '_base_' not in p)


def test_configs_found():
    assert len(CONFIGS) >= 10


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_config_loads_and_types_are_registered(path):
    cfg = Config.fromfile(path)
    assert 'model' in cfg, f'{path} has no model'
    model_type = cfg.model['type']
    if cfg.model.get('_scope_') == 'mmseg' or cfg.get('default_scope') == 'mmseg':
        from mmseg.registry import MODELS as SEG_MODELS
        assert SEG_MODELS.get(model_type) is not None
        return
    assert registry.MODELS.get(model_type) is not None, f'{path}: unknown model type {model_type}'
    dataloader = cfg.get('train_dataloader')
    if dataloader:
        assert registry.DATASETS.get(dataloader['dataset']['type']) is not None
        for step in dataloader['dataset'].get('pipeline', []):
            assert registry.TRANSFORMS.get(step['type']) is not None, (path, step['type'])
