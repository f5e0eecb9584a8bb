"""A full iPOSE checkpoint supplies PartNet: the config's PartNet file is then not needed.

The toy iPOSE config (tiny widths) with its PartNet ``checkpoint`` pointed at a file that does not
exist: ``init_model`` (used by tools/synthesize.py and IPOSEInferencer) and tools/test.py's
config preparation + MMEngine Runner ``load_from`` must build the model and end with exactly the
PartNet tensors of the model checkpoint; without those tensors the missing file must still be
reported by name.
"""
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmipose.apis import init_model, use_partnet_weights_from_checkpoint
from mmipose.apis.runner_cli import build_test_config, parse_test_args
from mmipose.datasets.toy import prepare_toy_data

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'toy', 'ipose_tiny_1xb4-600iters_toy-64x128.py')
PREFIX = 'part_inferencer.partnet.'
NUM_PARTNET_TENSORS = 86  # the official best_G.pth layout, as in a Runner-written iPOSE checkpoint


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Toy supports, a missing PartNet path and two checkpoints: with and without PartNet."""
    tmp = tmp_path_factory.mktemp('partnet_from_ckpt')
    data = str(tmp / 'toy')
    prepare_toy_data(data, seed=0, num_train=40, num_val=1, num_supports=3)
    supports = osp.join(data, 'supports')
    missing = str(tmp / 'no_such_dir' / 'partnet_official.pth')
    torch.manual_seed(0)
    model = init_model(CONFIG, None, cfg_options={'model.part_inferencer.support_bank.root': supports})
    state_dict = model.state_dict()
    g = torch.Generator().manual_seed(123)
    for key in state_dict:  # "trained" PartNet weights, unlike any fresh initialisation
        if key.startswith(PREFIX) and state_dict[key].is_floating_point():
            state_dict[key] = torch.randn(state_dict[key].shape, generator=g)
    with_partnet = str(tmp / 'ipose_with_partnet.pth')
    torch.save(dict(meta=dict(iter=1), state_dict=state_dict), with_partnet)
    without_partnet = str(tmp / 'ipose_without_partnet.pth')
    no_partnet = {k: v for k, v in state_dict.items() if not k.startswith(PREFIX)}
    torch.save(dict(meta=dict(iter=1), state_dict=no_partnet), without_partnet)
    return dict(
        tmp=tmp,
        supports=supports,
        missing=missing,
        state_dict=state_dict,
        with_partnet=with_partnet,
        without_partnet=without_partnet)


def _options(setup):
    return {
        'model.part_inferencer.support_bank.root': setup['supports'],
        'model.part_inferencer.partnet.checkpoint': setup['missing']
    }


def _cfg_options(setup):
    return ['--cfg-options'] + [f'{k}={v}' for k, v in _options(setup).items()]


def _assert_partnet_equals_checkpoint(model, state_dict):
    partnet = model.part_inferencer.partnet.state_dict()
    expected = {k[len(PREFIX):]: v for k, v in state_dict.items() if k.startswith(PREFIX)}
    assert len(partnet) == len(expected) == NUM_PARTNET_TENSORS
    for key, value in expected.items():
        assert torch.equal(partnet[key], value), key


def test_init_model_takes_partnet_from_the_model_checkpoint(setup):
    assert not osp.exists(setup['missing'])
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(_options(setup))
    model = init_model(cfg, setup['with_partnet'])
    _assert_partnet_equals_checkpoint(model, setup['state_dict'])
    # the rest of the model too (the generator is an example), and the EMA generator
    for key in ('generator.conv_img.weight', 'generator_ema.module.conv_img.weight'):
        assert torch.equal(model.state_dict()[key], setup['state_dict'][key]), key
    assert model.cfg.model.part_inferencer.partnet.checkpoint is None
    # the caller's config is left as it was
    assert cfg.model.part_inferencer.partnet.checkpoint == setup['missing']


def test_tools_test_config_and_runner_load_partnet_from_the_model_checkpoint(setup):
    work_dir = str(setup['tmp'] / 'work')
    args = parse_test_args([CONFIG, setup['with_partnet'], '--work-dir', work_dir] + _cfg_options(setup))
    cfg = build_test_config(args)
    assert cfg.model.part_inferencer.partnet.checkpoint is None
    assert cfg.load_from == setup['with_partnet'] and cfg.work_dir == work_dir
    cfg.experiment_name = f'partnet_from_ckpt_{os.getpid()}'
    cfg.log_level = 'WARNING'
    runner = Runner.from_cfg(cfg)  # builds the model: PartNet no longer opens the missing file
    runner.load_or_resume()  # what runner.test() does first, from cfg.load_from
    _assert_partnet_equals_checkpoint(runner.model, setup['state_dict'])


def test_missing_partnet_file_is_still_an_error_without_partnet_in_the_checkpoint(setup):
    with pytest.raises(FileNotFoundError, match='partnet_official.pth does not exist.*convert_official_checkpoint'):
        init_model(CONFIG, setup['without_partnet'], cfg_options=_options(setup))
    args = parse_test_args([CONFIG, setup['without_partnet'], '--work-dir',
                            str(setup['tmp'] / 'work2')] + _cfg_options(setup))
    cfg = build_test_config(args)
    assert cfg.model.part_inferencer.partnet.checkpoint == setup['missing']
    cfg.experiment_name = f'partnet_missing_{os.getpid()}'
    with pytest.raises(FileNotFoundError, match='no_such_dir/partnet_official.pth does not exist'):
        Runner.from_cfg(cfg)


def test_partial_or_module_prefixed_partnet_tensors(setup):
    state_dict = setup['state_dict']
    partnet_keys = [k for k in state_dict if k.startswith(PREFIX)]

    def prepared(checkpoint):
        cfg = Config.fromfile(CONFIG)
        cfg.merge_from_dict(_options(setup))
        switched = use_partnet_weights_from_checkpoint(cfg, checkpoint)
        return switched, cfg.model.part_inferencer.partnet.checkpoint

    # DataParallel-style 'module.' keys: MMEngine strips them when loading, so they count
    assert prepared({'module.' + k: v for k, v in state_dict.items()}) == ([PREFIX], None)
    # a plain state dict (no 'state_dict' entry) is accepted as well
    assert prepared(dict(state_dict)) == ([PREFIX], None)
    # one PartNet tensor short, or one with the wrong shape: the config's file is still needed
    partial = {k: v for k, v in state_dict.items() if k != partnet_keys[0]}
    assert prepared(dict(state_dict=partial)) == ([], setup['missing'])
    wrong = dict(state_dict, **{partnet_keys[0]: torch.zeros(1)})
    assert prepared(dict(state_dict=wrong)) == ([], setup['missing'])
    # no PartNet file configured: nothing to do and the checkpoint is not even read
    cfg = Config.fromfile(CONFIG)
    assert cfg.model.part_inferencer.partnet.checkpoint is None
    assert use_partnet_weights_from_checkpoint(cfg, str(setup['tmp'] / 'not_read.pth')) == []
