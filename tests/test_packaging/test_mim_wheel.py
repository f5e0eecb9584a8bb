"""The built wheel works with OpenMIM: `mim search mmipose` and `mim train mmipose <toy config>`.

Builds an sdist and a wheel from a copy of the source tree, installs the wheel (``--no-deps``) into a
fresh virtual environment that reuses this environment's packages through a ``.pth`` file (so torch &
co. are not installed again), and runs mim there from a temporary working directory without
PYTHONPATH, so the mmipose that runs is the wheel's, not this checkout. Slow (about 1-4 minutes:
three fresh Python processes import torch / MMagic); run it with
``python -m pytest tests/test_packaging -m slow``. Needs ``openmim`` (requirements/tests.txt).
"""
import glob
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch
import yaml

from mmipose.datasets.toy import prepare_toy_data

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SOURCE_ITEMS = ('setup.py', 'setup.cfg', 'pyproject.toml', 'MANIFEST.in', 'README.md', 'LICENSE', 'model-index.yml',
                'requirements', 'configs', 'tools', 'mmipose')
TOY_CONFIG = 'ipose_tiny_1xb4-600iters_toy-64x128.py'

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec('mim') is None, reason='openmim is not installed (it is in requirements/tests.txt)'),
]


def _run(cmd, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f'{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
    return proc.stdout


def _build_wheel(tmp_path) -> str:
    src = tmp_path / 'src'
    src.mkdir()
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim', '*.egg-info')
    for item in SOURCE_ITEMS:
        path = osp.join(ROOT, item)
        if osp.isdir(path):
            shutil.copytree(path, src / item, ignore=ignore)
        else:
            shutil.copyfile(path, src / item)
    # sdist first, then the wheel from the sdist: checks MANIFEST.in ships what setup.py copies
    _run([sys.executable, 'setup.py', '-q', 'sdist', '-d', str(tmp_path / 'sdist')], cwd=src)
    sdist = glob.glob(str(tmp_path / 'sdist' / 'mmipose-*.tar.gz'))
    assert len(sdist) == 1, sdist
    _run([
        sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '--no-index', '-w',
        str(tmp_path / 'wheel'), sdist[0]
    ],
         cwd=tmp_path)
    wheels = glob.glob(str(tmp_path / 'wheel' / 'mmipose-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _fresh_venv(tmp_path) -> str:
    """A venv whose own site-packages is empty and which sees this environment's packages after it."""
    venv = tmp_path / 'venv'
    _run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], cwd=tmp_path)
    python = str(venv / 'bin' / 'python')
    site = _run([python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], cwd=tmp_path).strip()
    parents = [p for p in sys.path if osp.basename(p) in ('site-packages', 'dist-packages') and osp.isdir(p)]
    with open(osp.join(site, '_mmipose_test_parent_env.pth'), 'w') as f:
        f.write('\n'.join(parents) + '\n')
    return python


def _metafile_names():
    index = yaml.safe_load(open(osp.join(ROOT, 'model-index.yml')))
    return [m['Name'] for meta in index['Import'] for m in yaml.safe_load(open(osp.join(ROOT, meta)))['Models']]


def test_wheel_mim_search_and_train(tmp_path):
    wheel = _build_wheel(tmp_path)
    python = _fresh_venv(tmp_path)
    run_dir = tmp_path / 'run'
    run_dir.mkdir()
    _run([python, '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', wheel], cwd=run_dir)
    package = _run([python, '-c', 'import mmipose, os.path as p; print(p.dirname(mmipose.__file__))'],
                   cwd=run_dir).strip().splitlines()[-1]
    assert package.startswith(str(tmp_path / 'venv')), f'imported {package}, not the wheel'
    for sub in ('configs/_base_/models/ipose.py', 'configs/toy/' + TOY_CONFIG, 'tools/train.py', 'tools/test.py',
                'model-index.yml'):
        assert osp.isfile(osp.join(package, '.mim', sub)), sub

    listing = _run([python, '-m', 'mim', 'search', 'mmipose'], cwd=run_dir)
    names = _metafile_names()
    assert names  # tests/test_configs/test_metafiles.py checks they cover every config
    for name in names:
        assert f'config id: {name}' in listing, name

    data = str(run_dir / 'toy')
    prepare_toy_data(data, seed=0, num_train=40, num_val=2, num_supports=3)
    options = [
        'train_cfg.max_iters=1', 'train_cfg.val_begin=1000', 'train_dataloader.batch_size=1', 'custom_hooks=[]',
        'default_hooks.logger.interval=1', 'model.part_inferencer.partnet.num_attention_layers=1',
        'model.part_inferencer.support_bank.root=' + osp.join(data, 'supports')
    ]
    for loader in ('train_dataloader', 'val_dataloader'):
        options += [
            f'{loader}.dataset.data_root={data}', f'{loader}.dataset.num_train=40', f'{loader}.dataset.num_val=2'
        ]
    out = _run(
        [python, '-m', 'mim', 'train', 'mmipose', TOY_CONFIG, '--work-dir', 'work', '--cfg-options'] + options,
        cwd=run_dir)
    assert osp.join(package, '.mim', 'configs', 'toy', TOY_CONFIG) in out  # the installed config was used
    checkpoint = torch.load(str(run_dir / 'work' / 'iter_1.pth'), map_location='cpu', weights_only=False)
    generator = {k: v for k, v in checkpoint['state_dict'].items() if k.startswith('generator.')}
    assert generator and all(torch.isfinite(v).all() for v in generator.values() if v.is_floating_point())
    scalars = glob.glob(str(run_dir / 'work' / '*' / 'vis_data' / 'scalars.json'))
    records = [json.loads(line) for line in open(scalars[0])]
    losses = {k: v for r in records for k, v in r.items() if k.startswith('loss')}
    assert {'loss_g', 'loss_d', 'loss_g_adv', 'loss_d_fake', 'loss_d_real'} <= set(losses), records
    assert all(torch.isfinite(torch.tensor(float(v))) for v in losses.values()), losses
