"""model-index.yml, the metafiles and the config names agree with the configs that ship.

Every config folder has a README.md and a metafile.yml imported by model-index.yml; every config is
one metafile model (Name = file name, Config = its path) and follows the OpenMMLab naming rule
``{algorithm}_{module}_{N}xb{B}-{schedule}_{dataset}-{size}``.
"""
import glob
import os.path as osp
import re

import pytest
import yaml

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOLDERS = sorted(d for d in glob.glob(osp.join(ROOT, 'configs', '*')) if osp.isdir(d) and not d.endswith('_base_'))
CONFIGS = sorted(p for d in FOLDERS for p in glob.glob(osp.join(d, '*.py')))
# {algorithm}[_{module}]_{gpus}xb{batch}-{schedule}_{dataset}-{HxW}; schedule: <n>iters, <n>kiters or <n>e
NAME_RULE = re.compile(r'^[a-z0-9-]+(_[a-z0-9-]+)?_\d+xb\d+-\d+(k?iters|e)_[a-z0-9-]+-\d+x\d+$')
REQUIRED_MODEL_FIELDS = ('Name', 'In Collection', 'Config', 'Results', 'Weights')


def _load(rel):
    with open(osp.join(ROOT, rel)) as f:
        return yaml.safe_load(f)


def _models():
    return [(meta, m) for meta in _load('model-index.yml')['Import'] for m in _load(meta)['Models']]


def test_every_config_folder_has_readme_and_imported_metafile():
    imported = _load('model-index.yml')['Import']
    assert FOLDERS
    for folder in FOLDERS:
        rel = osp.relpath(folder, ROOT)
        assert osp.isfile(osp.join(folder, 'README.md')), f'{rel}/README.md missing'
        assert f'{rel}/metafile.yml' in imported, f'{rel}/metafile.yml not imported by model-index.yml'


def test_every_config_is_exactly_one_model_and_every_model_a_config():
    configs = {osp.relpath(p, ROOT) for p in CONFIGS}
    listed = [m['Config'] for _, m in _models()]
    assert sorted(listed) == sorted(configs)


@pytest.mark.parametrize('meta_model', _models(), ids=lambda mm: mm[1]['Name'])
def test_model_entry_fields(meta_model):
    meta, model = meta_model
    for field in REQUIRED_MODEL_FIELDS:
        assert field in model, f'{meta}: {model["Name"]} has no {field}'
    assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]
    assert osp.dirname(model['Config']) == osp.dirname(meta)
    collections = {c['Name']: c for c in _load(meta)['Collections']}
    assert model['In Collection'] in collections
    assert osp.isfile(osp.join(ROOT, collections[model['In Collection']]['README']))
    for result in model['Results']:
        assert {'Task', 'Dataset', 'Metrics'} <= set(result)
        for name, value in result['Metrics'].items():
            assert isinstance(value, (int, float)) or value == 'not yet measured', (model['Name'], name, value)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_config_name_follows_openmmlab_rule(path):
    name = osp.splitext(osp.basename(path))[0]
    assert NAME_RULE.match(name), \
        f'{name} breaks {{algorithm}}_{{module}}_{{N}}xb{{B}}-{{schedule}}_{{dataset}}-{{size}}'


@pytest.mark.parametrize(
    'name,ok',
    [
        ('ipose_2xb2-372kiters_cityscapes-256x512', True),
        ('partnet_1xb6-500e_parts-64x64', True),
        ('ipose-ablation_spade-injection_2xb2-372kiters_cityscapes-256x512', True),
        ('ipose_tiny_1xb4_toy-64x128', False),  # no schedule (the old toy name)
        ('partnet_toy_1xb16_toy', False),  # no schedule, no size
    ])
def test_name_rule_itself(name, ok):
    assert bool(NAME_RULE.match(name)) == ok
