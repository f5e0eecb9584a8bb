"""Real-dataset pipelines: bad files, size / label checks, flip-then-box, packing through the real
DataPreprocessor (objects stay a per-sample list), metainfo tables."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from PIL import Image

from mmipose.datasets.object_boxes import compute_object_boxes
from mmipose.registry import DATASETS, MODELS, TRANSFORMS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

pytestmark = pytest.mark.usefixtures('mmagic_scope')  # see conftest.py


def _save(path, array):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    Image.fromarray(array).save(str(path))


def _cityscapes_files(root, name='aachen_000000_000019', h=16, w=32, objects=True, city='aachen'):
    label = np.full((h, w), 7, np.uint8)
    inst = label.astype(np.uint16)
    if objects:
        label[2:10, 3:13] = 26
        inst[2:10, 3:13] = 26001
        label[8:15, 20:25] = 24
        inst[8:15, 20:25] = 24003
    rgb = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    _save(root / 'leftImg8bit' / 'val' / city / f'{name}_leftImg8bit.png', rgb)
    gt = root / 'gtFine' / 'val' / city
    _save(gt / f'{name}_gtFine_labelIds.png', label)
    _save(gt / f'{name}_gtFine_instanceIds.png', inst)
    return gt


def _dataset(base, root, scale, split, train=False, flip_ratio=1.0):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', base))
    pipeline = []
    for step in (cfg.train_pipeline if train else cfg.val_pipeline):
        step = dict(step)
        if step['type'] in ('Resize', 'PILResize'):
            step['scale'] = scale
        if step['type'] == 'Flip':
            step['flip_ratio'] = flip_ratio
        pipeline.append(step)
    dataset_cfg = dict(cfg.val_dataloader.dataset, data_root=str(root), pipeline=pipeline, split=split)
    return DATASETS.build(dataset_cfg), cfg


def test_label_size_mismatch_names_both_files(tmp_path):
    gt = _cityscapes_files(tmp_path)
    _save(gt / 'aachen_000000_000019_gtFine_labelIds.png', np.full((8, 32), 7, np.uint8))
    dataset, _ = _dataset('cityscapes.py', tmp_path, (16, 8), 'val')
    with pytest.raises(
            ValueError, match=r'label map .*gtFine_labelIds.png is 8x32 but img '
            r'.*_leftImg8bit.png is 16x32'):
        dataset[0]


def test_corrupt_and_missing_maps_name_the_file(tmp_path):
    gt = _cityscapes_files(tmp_path)
    with open(gt / 'aachen_000000_000019_gtFine_instanceIds.png', 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n truncated')
    dataset, _ = _dataset('cityscapes.py', tmp_path, (16, 8), 'val')
    with pytest.raises(ValueError, match=r'cannot decode inst file .*gtFine_instanceIds.png'):
        dataset[0]
    os.remove(gt / 'aachen_000000_000019_gtFine_instanceIds.png')
    with pytest.raises(FileNotFoundError, match=r'inst map .*aachen_000000_000019_gtFine_instanceIds.png'):
        _dataset('cityscapes.py', tmp_path, (16, 8), 'val')


def test_missing_image_folder_names_root(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'leftImg8bit/val does not exist'):
        _dataset('cityscapes.py', tmp_path, (16, 8), 'val')


def test_coco_raw_label_out_of_range_names_raw_values(tmp_path):
    h, w = 8, 8
    raw = np.full((h, w), 255, np.uint8)
    raw[0, 0] = 200  # raw ids are 0..181 (+ 255 unlabeled)
    _save(tmp_path / 'val2017' / '000000000001.jpg', np.zeros((h, w, 3), np.uint8))
    _save(tmp_path / 'stuffthingmaps_trainval2017' / 'val2017' / '000000000001.png', raw)
    _save(tmp_path / 'instance_maps' / 'val2017' / '000000000001.png', np.zeros((h, w), np.uint16))
    dataset, _ = _dataset('coco_stuff.py', tmp_path, (w, h), 'val2017')
    with pytest.raises(ValueError, match=r'000000000001.png: label values \[200\] outside 0..181 or \[255\]'):
        dataset[0]


def test_ade20k_instance_map_must_be_rgb():
    split = TRANSFORMS.build(dict(type='SplitADE20KInstance'))
    with pytest.raises(ValueError, match=r'a.png must be an RGB instance PNG'):
        split(dict(inst=np.zeros((4, 4), np.uint8), inst_path='a.png'))


def test_flip_then_boxes_match_flipped_maps(tmp_path):
    _cityscapes_files(tmp_path)
    plain, cfg = _dataset('cityscapes.py', tmp_path, (32, 16), 'val')
    flipped, _ = _dataset('cityscapes.py', tmp_path, (32, 16), 'val', train=True, flip_ratio=1.0)
    a, b = plain[0], flipped[0]
    for key in ('img', 'label', 'inst'):  # image and both maps flipped together
        np.testing.assert_array_equal(b['inputs'][key].numpy(), a['inputs'][key].numpy()[..., ::-1])
    objects = b['data_samples'].metainfo['objects']
    expected = compute_object_boxes(
        b['inputs']['inst'].numpy()[0],
        b['inputs']['label'].numpy()[0],
        dict(cfg.object_part_categories),
        min_instance_value=1000)
    np.testing.assert_array_equal(objects, expected)
    # the car's pixels are columns 3..12 before the flip, 19..28 after it (exact mirror)
    car = objects[objects[:, 0] == 26001][0]
    assert car[4] == 32 - 1 - 12 and car[5] >= 32 - 1 - 3


def test_objects_reach_the_model_as_a_per_sample_list(tmp_path):
    """MMagic's PackInputs + DataPreprocessor (the model's settings): (K_b, 8) arrays per sample."""
    _cityscapes_files(tmp_path, 'aachen_000000_000019', objects=True)
    _cityscapes_files(tmp_path, 'aachen_000000_000020', objects=False)  # no objects at all
    dataset, _ = _dataset('cityscapes.py', tmp_path, (32, 16), 'val')
    batch = pseudo_collate([dataset[0], dataset[1]])
    preprocessor = MODELS.build(
        dict(
            type='DataPreprocessor', non_image_keys=['label', 'inst'], data_keys=['gt_img'],
            output_channel_order='RGB'))
    data = preprocessor(batch, False)
    objects = data['data_samples'].metainfo['objects']
    assert isinstance(objects, list) and [o.shape for o in objects] == [(2, 8), (0, 8)]
    assert objects[0].dtype == np.int64 and sorted(objects[0][:, 0]) == [24003, 26001]
    inst = data['inputs']['inst']
    assert inst.shape == (2, 1, 16, 32) and int(inst.max()) == 26001  # 16-bit ids intact
    assert data['inputs']['img'].shape == (2, 3, 16, 32) and float(data['inputs']['img'].abs().max()) <= 1
    assert data['data_samples'].metainfo['image_name'] == ['aachen_000000_000019', 'aachen_000000_000020']


def test_metainfo_classes_and_palettes():
    from mmipose.datasets.ade20k import ade20k_metainfo
    from mmipose.datasets.cityscapes import cityscapes_metainfo
    from mmipose.datasets.coco_stuff import coco_stuff_metainfo
    cs, ade, coco = cityscapes_metainfo(), ade20k_metainfo(), coco_stuff_metainfo()
    for meta, n in ((cs, 35), (ade, 151), (coco, 183)):
        assert len(meta['classes']) == n and np.asarray(meta['palette']).shape == (n, 3)
    assert cs['classes'][26] == 'car' and cs['palette'][26] == [0, 0, 142]
    assert ade['classes'][:2] == ('other', 'wall') and ade['palette'][0] == [0, 0, 0]
    # labels are raw + 1: COCO category id c has label c, unused ids keep their place
    assert coco['classes'][1] == 'person' and coco['classes'][3] == 'car'
    assert coco['classes'][12] == 'unused_11' and coco['classes'][13] == 'stop sign'
