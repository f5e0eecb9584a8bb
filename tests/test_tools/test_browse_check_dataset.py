"""tools/analysis/browse_dataset.py and check_dataset.py on the toy data and on fixtures in every real layout."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest

from mmipose.apis.dataset_cli import browse_dataset_main, check_dataset_main
from mmipose.testing import dataset_writers as writers

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_IPOSE, = glob.glob(osp.join(ROOT, 'configs', 'toy', 'ipose_tiny_*_toy-64x128.py'))
TOY_PARTNET, = glob.glob(osp.join(ROOT, 'configs', 'toy', 'partnet_*_toy-64x64.py'))
TOY_SEGMENTER, = glob.glob(osp.join(ROOT, 'configs', 'toy', 'segmenter_*_toy-64x128.py'))
BASE = osp.join(ROOT, 'configs', '_base_', 'datasets')
TOY = dict(num_train=40, num_val=6, num_supports=2)  # the smallest toy set with supports for every category


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    from mmipose.datasets.toy import prepare_toy_data
    root = str(tmp_path_factory.mktemp('toy') / 'data')
    prepare_toy_data(root, seed=0, height=64, width=128, **TOY)
    return root


def _toy_options(root, loaders=('train', 'val')):
    opts = []
    for loader in loaders:
        opts.append(f'{loader}_dataloader.dataset.data_root={root}')
        opts += [f'{loader}_dataloader.dataset.{k}={v}' for k, v in TOY.items()]
    return opts


def _check(args, capsys):
    rc = check_dataset_main(args + ['--no-progress'])
    return rc, capsys.readouterr().out


def _browse(args):
    return browse_dataset_main(args)


def _read_rgb(path):
    return cv2.imread(path)[..., ::-1]


def test_toy_browse_grid_and_check(toy_root, tmp_path, capsys):
    grid = str(tmp_path / 'grid.png')
    _browse([TOY_IPOSE, '--split', 'val', '--num', '3', '--grid', grid, '--cfg-options'] + _toy_options(toy_root))
    image = _read_rgb(grid)
    # 3 rows x 5 columns of 128x256 tiles (64x128 scenes, auto scale 2), 2 px padding, 14 px titles
    assert image.shape == (14 + 3 * (128 + 2) + 2, 5 * (256 + 2) + 2, 3)
    rc, out = _check([TOY_IPOSE, '--split', 'val', '--workers', '2', '--cfg-options'] + _toy_options(toy_root), capsys)
    assert rc == 0, out
    assert "instance-map format found: {'16-bit class*1000+k': 6}" in out and 'problems: 0' in out
    # an independent count of the objects: every instance id >= 1000 of a part class in the stored maps,
    # minus boxes thinner than 2 pixels (none in the toy scenes at this size)
    expected = 0
    for i in range(6):
        inst = cv2.imread(osp.join(toy_root, 'scenes', 'val', 'instances', f'val_{i:05d}.png'), cv2.IMREAD_UNCHANGED)
        expected += sum(1 for v in np.unique(inst) if v >= 1000 and v // 1000 in (6, 7, 8, 9))
    assert 'val (ToySceneDataset): 6 images' in out and f'objects: {expected} in all' in out


def test_toy_partnet_pairs_browse_and_check(toy_root, tmp_path, capsys):
    opts = [f'{s}_dataloader.dataset.data_root={toy_root}/part_dataset' for s in ('train', 'val')]
    paths = _browse([TOY_PARTNET, '--split', 'val', '--num', '2', '--out',
                     str(tmp_path / 'pairs'), '--cfg-options'] + opts)
    assert len(paths) == 2 and _read_rgb(paths[0]).shape == (14 + 128 + 4, 2 * (128 + 2) + 2, 3)
    rc, out = _check([TOY_PARTNET, '--split', 'val', '--cfg-options'] + opts, capsys)
    assert rc == 0 and 'samples per category' in out and 'part ids seen: [0, ' in out


def test_toy_segmenter_dataset_browse_and_check(toy_root, tmp_path, capsys):
    opts = [f'{s}_dataloader.dataset.data_root={toy_root}' for s in ('train', 'val')]
    grid = str(tmp_path / 'seg.png')
    _browse([TOY_SEGMENTER, '--split', 'val', '--num', '2', '--grid', grid, '--cfg-options'] + opts)
    assert _read_rgb(grid).shape == (14 + 2 * (128 + 2) + 2, 2 * (256 + 2) + 2, 3)
    rc, out = _check([TOY_SEGMENTER, '--split', 'val', '--cfg-options'] + opts, capsys)
    assert rc == 0, out
    assert 'label ids seen: 9 ids [1, 2, 3, 4, 5, 6, 7, 8, 9] (config classes: 0..9)' in out


def _count_ids(folder, pattern, object_ids):
    paths = sorted(glob.glob(osp.join(folder, pattern)))
    return sum(len(object_ids(cv2.imread(p, cv2.IMREAD_UNCHANGED))) for p in paths)


FIXTURES = {
    'cityscapes': ('cityscapes.py', lambda root: writers.write_cityscapes(root, 'val', 2, size=(32, 64)), [],
                   '16-bit class*1000+k', lambda root: _count_ids(
                       osp.join(root, 'gtFine', 'val', 'aachen'), '*instanceIds.png', lambda m:
                       [v for v in np.unique(m) if v >= 1000])),
    'ade20k': ('ade20k.py', lambda root: writers.write_ade20k(root, 'validation', 2), [], 'RGB (R class, G id)',
               lambda root: _count_ids(
                   osp.join(root, 'annotations_instance', 'validation'), '*.png', lambda m:
                   [v for v in np.unique(m[..., 1]) if v > 0])),
    'coco-stuff':
    ('coco_stuff.py', lambda root: writers.write_coco_stuff(root, 'val2017', 2), [], '16-bit class*256+k', lambda root:
     _count_ids(osp.join(root, 'instance_maps', 'val2017'), '*.png', lambda m: [v for v in np.unique(m) if v > 0])),
    'coco-stuff-spade':
    ('coco_stuff.py', lambda root: writers.write_coco_stuff_spade(root, 'val', 2),
     ['val_dataloader.dataset.layout=spade'], '8-bit per-image ids',
     lambda root: _count_ids(osp.join(root, 'val_label'), '*.png', lambda m: [v for v in np.unique(m) if v < 90])),
}


@pytest.mark.parametrize('name', sorted(FIXTURES))
def test_real_layouts_as_shipped_browse_and_check(name, tmp_path, capsys):
    """The folders the authors' code reads (Cityscapes, ADE20K as downloaded; COCO-Stuff converted or SPADE)."""
    config, write, opts, fmt, count = FIXTURES[name]
    root = str(tmp_path / 'data')
    write(root)
    opts = [f'val_dataloader.dataset.data_root={root}'] + opts
    rc, out = _check([osp.join(BASE, config), '--split', 'val', '--cfg-options'] + opts, capsys)
    assert rc == 0, out
    assert f"instance-map format found: {{'{fmt}': 2}}" in out
    assert f'objects: {count(root)} in all' in out  # one object per drawn instance, none lost
    grid = str(tmp_path / 'grid.png')
    _browse([osp.join(BASE, config), '--split', 'val', '--num', '2', '--grid', grid, '--cfg-options'] + opts)
    assert _read_rgb(grid).shape[0] > 2 * 64


def test_check_names_every_bad_file_and_exits_1(tmp_path, capsys):
    root = str(tmp_path / 'city')
    names = writers.write_cityscapes(root, 'val', 3, size=(32, 64))
    gt = osp.join(root, 'gtFine', 'val', 'aachen')
    writers.save_png(osp.join(gt, f'{names[0]}_gtFine_labelIds.png'), np.zeros((16, 64), np.uint8))
    with open(osp.join(gt, f'{names[1]}_gtFine_instanceIds.png'), 'wb') as f:
        f.write(b'not a png')
    rc, out = _check([
        osp.join(BASE, 'cityscapes.py'), '--split', 'val', '--cfg-options', f'val_dataloader.dataset.data_root={root}'
    ], capsys)
    assert rc == 1 and 'problems: 2' in out
    assert f'{names[0]}_gtFine_labelIds.png 16x64' in out and 'sizes differ' in out
    assert f'{names[1]}_gtFine_instanceIds.png is unreadable' in out


def test_check_catches_8bit_instance_maps_in_the_standard_coco_layout(tmp_path, capsys):
    root = str(tmp_path / 'coco')
    names = writers.write_coco_stuff(root, 'val2017', 2)
    for name in names:  # SPADE-style 8-bit maps where the converter's 16-bit ones belong
        path = osp.join(root, 'instance_maps', 'val2017', f'{name}.png')
        inst = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        writers.save_png(path, (inst % 256).astype(np.uint8))
    rc, out = _check([
        osp.join(BASE, 'coco_stuff.py'), '--split', 'val', '--cfg-options', f'val_dataloader.dataset.data_root={root}'
    ], capsys)
    assert rc == 1
    assert f"instance_maps/val2017/{names[0]}.png: 8-bit instance map" in out and "layout='spade'" in out
    assert 'instance map is 8-bit per-image ids, the pipeline expects 16-bit class*256+k' in out
