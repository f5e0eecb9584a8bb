"""Every shipped config loads, and its model / dataset types are registered components."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

import mmipose.registry as registry

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py')) if '_base_' not in p)


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


def test_toy_ipose_builds_the_partnet_the_toy_pretraining_trains():
    """The demo loads the toy PartNet weights into the toy iPOSE model: same widths in both configs,
    and the generator's part-feature width follows PartNet's decoder."""
    toy = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'toy')
    partnet_cfg = Config.fromfile(glob.glob(osp.join(toy, 'partnet_*.py'))[0])
    ipose_cfg = Config.fromfile(glob.glob(osp.join(toy, 'ipose_tiny_*.py'))[0])
    trained = {k: tuple(v) for k, v in partnet_cfg.model.partnet.items() if k.endswith('_channels')}
    used = {k: tuple(v) for k, v in ipose_cfg.model.part_inferencer.partnet.items() if k.endswith('_channels')}
    assert trained == used and set(trained) == {'encoder_channels', 'decoder_channels'}
    assert ipose_cfg.model.generator.partnet_feature_nc == trained['decoder_channels'][-1]
