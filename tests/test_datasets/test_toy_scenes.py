import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmipose.datasets.toy import (TOY_PART_CATEGORIES, TOY_PART_NAMES, draw_scene, expand_box, mask_box,
                                  prepare_toy_data, square_crop)
from mmipose.datasets.toy.dataset import ToySceneDataset

SMALL = dict(seed=3, num_train=40, num_val=6, height=64, width=128, num_supports=2)


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy') / 'data')
    prepare_toy_data(root, **SMALL)
    return root


def test_scene_is_deterministic_and_consistent():
    a = draw_scene(np.random.default_rng([5, 0, 1]))
    b = draw_scene(np.random.default_rng([5, 0, 1]))
    for key in ('image', 'label', 'inst', 'parts'):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    for seed in range(20):
        scene = draw_scene(np.random.default_rng([seed, 0, 0]), 48, 96)
        assert scene.image.shape == (48, 96, 3) and scene.label.shape == (48, 96)
        is_object = np.isin(scene.label, list(TOY_PART_CATEGORIES))
        # objects: inst = label*1000+k, stuff: inst = label, parts only on objects
        np.testing.assert_array_equal(scene.inst[is_object] // 1000, scene.label[is_object])
        np.testing.assert_array_equal(scene.inst[~is_object], scene.label[~is_object])
        assert (scene.parts[~is_object] == 0).all() and (scene.parts[is_object] > 0).all()
        assert 1 <= scene.label.min() and scene.label.max() <= 9  # void (0) is never drawn
        for obj in scene.objects:
            pixels = scene.inst == obj.instance_value
            assert pixels.sum() == obj.visible_pixels <= obj.drawn_pixels
            assert scene.parts[pixels].max() <= len(TOY_PART_NAMES[obj.part_category])


def _reference_crop(array, box, size=64):
    """Straightforward version of the reference crop: pad to square then torch legacy nearest."""
    hs, he, ws, we = box
    crop = torch.from_numpy(array[hs:he, ws:we].astype(np.float32))
    h, w = crop.shape
    if h > w:
        r = (h - w) // 2
        crop = F.pad(crop, (r, h - w - r, 0, 0))
    elif w > h:
        r = (w - h) // 2
        crop = F.pad(crop, (0, 0, r, w - h - r))
    return F.interpolate(crop[None, None], size=(size, size), mode='nearest')[0, 0].numpy()


@pytest.mark.parametrize('shape', [(10, 30), (31, 7), (12, 12), (3, 5)])
def test_square_crop_matches_torch_nearest(shape):
    rng = np.random.default_rng(0)
    array = rng.integers(0, 9, size=(40, 50)).astype(np.uint8)
    mask = np.zeros((40, 50), bool)
    mask[4:4 + shape[0], 9:9 + shape[1]] = True
    box = expand_box(mask_box(mask), 40, 50)
    assert (box[1] - box[0]) % 2 == 0 and (box[3] - box[2]) % 2 == 0
    np.testing.assert_array_equal(square_crop(array, box), _reference_crop(array, box))


def test_expand_box_clips_and_keeps_even_extents():
    assert expand_box((0, 4, 0, 4), 10, 10) == (0, 6, 0, 6)
    assert expand_box((3, 6, 3, 6), 20, 20) == (1, 9, 1, 9)  # odd -> grow the end
    assert expand_box((15, 18, 15, 18), 20, 20) == (12, 20, 12, 20)  # end clipped -> grow the start
    # both ends clipped: the reference leaves the odd extent as it is
    assert expand_box((1, 7, 2, 8), 9, 10) == (0, 9, 0, 10)


def test_generated_layout_and_cache(toy_root, tmp_path):
    manifest = prepare_toy_data(toy_root, **SMALL)
    assert manifest['cached'] is True
    for split, count in (('train', 40), ('val', 6)):
        for kind in ('images', 'labels', 'instances', 'parts'):
            assert len(glob.glob(osp.join(toy_root, 'scenes', split, kind, '*.png'))) == count
    inst = cv2.imread(osp.join(toy_root, 'scenes/train/instances/train_00000.png'), cv2.IMREAD_UNCHANGED)
    assert inst.dtype == np.uint16 and inst.max() >= 6001
    for category in TOY_PART_NAMES:
        supports = sorted(glob.glob(osp.join(toy_root, 'supports', str(category), '*_part.png')))
        assert len(supports) == 2
        support = cv2.imread(supports[0], cv2.IMREAD_UNCHANGED)
        assert support.shape == (64, 64) and support.dtype == np.uint8
        # supports are clean: every part of the category is present
        assert len(np.unique(support)) == len(TOY_PART_NAMES[category]) + 1
        labels = sorted(glob.glob(osp.join(toy_root, 'part_dataset', str(category), 'train', '*_label.png')))
        assert labels and manifest['objects']['train'][str(category)] == len(labels)
        shape = cv2.imread(labels[0], cv2.IMREAD_UNCHANGED)
        parts = cv2.imread(labels[0].replace('_label.png', '_part.png'), cv2.IMREAD_UNCHANGED)
        assert set(np.unique(shape)) <= {0, 1}
        np.testing.assert_array_equal(parts > 0, shape > 0)
    # other parameters regenerate; a foreign non-empty folder is refused
    assert prepare_toy_data(toy_root, **dict(SMALL, num_val=5))['cached'] is False
    prepare_toy_data(toy_root, **SMALL)
    (tmp_path / 'foreign').mkdir()
    (tmp_path / 'foreign' / 'keep.txt').write_text('x')
    with pytest.raises(FileExistsError, match='not empty'):
        prepare_toy_data(str(tmp_path / 'foreign'), **SMALL)


def test_dataset_items(toy_root):
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    dataset = ToySceneDataset(
        toy_root,
        split='val',
        **{
            k: v
            for k, v in SMALL.items()
        },
        pipeline=[
            dict(type='LoadImageFromFile', key='img'),
            dict(type='LoadImageFromFile', key='inst', color_type='unchanged')
        ])
    assert len(dataset) == 6
    item = dataset[2]
    assert item['img'].shape == (64, 128, 3) and item['inst'].dtype == np.uint16
    assert item['part_categories'] == {6: 24, 7: 26, 8: 28, 9: 101}
    assert dataset.metainfo['novel_categories'] == [28]
    with pytest.raises(ValueError, match='split'):
        ToySceneDataset(toy_root, split='test')
    with pytest.raises(FileNotFoundError, match='manifest'):
        ToySceneDataset(toy_root + '-missing', generate=False)
