"""Cityscapes, ADE20K and COCO-Stuff datasets on tiny fixtures written in their real on-disk layouts."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from mmipose.datasets.object_boxes import compute_object_boxes
from mmipose.registry import DATASETS
from mmipose.testing.dataset_writers import save_png as _save

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

pytestmark = pytest.mark.usefixtures('mmagic_scope')  # see conftest.py


def _build(base, data_root, scale, split_key, split):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', base))
    pipeline = []
    for step in cfg.val_pipeline:
        step = dict(step)
        if step['type'] in ('Resize', 'PILResize'):
            step['scale'] = scale
        pipeline.append(step)
    dataset_cfg = dict(cfg.val_dataloader.dataset)
    dataset_cfg.update(data_root=str(data_root), pipeline=pipeline, **{split_key: split})
    return DATASETS.build(dataset_cfg), cfg


def test_cityscapes_16bit_ids_boxes_after_resize(tmp_path):
    h, w = 16, 32
    label = np.full((h, w), 7, np.uint8)  # road
    inst = label.astype(np.uint16)
    label[2:10, 4:14] = 26
    inst[2:10, 4:14] = 26001  # a car
    label[9:15, 20:24] = 24
    inst[9:15, 20:24] = 24000 + 2
    label[0:2, 28:32] = 24
    inst[0:2, 28:32] = 24  # crowd region: bare label id, not an object
    city = tmp_path / 'leftImg8bit' / 'val' / 'aachen'
    _save(str(city / 'aachen_000000_000019_leftImg8bit.png'), np.zeros((h, w, 3), np.uint8))
    gt = tmp_path / 'gtFine' / 'val' / 'aachen'
    _save(str(gt / 'aachen_000000_000019_gtFine_labelIds.png'), label)
    _save(str(gt / 'aachen_000000_000019_gtFine_instanceIds.png'), inst)
    dataset, cfg = _build('cityscapes.py', tmp_path, (w // 2, h // 2), 'split', 'val')
    sample = dataset[0]
    packed_inst = sample['inputs']['inst'].numpy()[0]
    assert packed_inst.max() == 26001  # 16-bit ids survive loading and resizing
    expected = compute_object_boxes(
        packed_inst, sample['inputs']['label'].numpy()[0], dict(cfg.object_part_categories), min_instance_value=1000)
    objects = sample['data_samples'].metainfo['objects']
    assert np.array_equal(objects, expected) and sorted(objects[:, 0]) == [24002, 26001]
    assert objects[:, 2:6].max() <= w // 2  # boxes at working resolution, not on the stored file


def test_cityscapes_missing_label_names_file(tmp_path):
    _save(str(tmp_path / 'leftImg8bit' / 'val' / 'x' / 'x_1_leftImg8bit.png'), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match='x_1_gtFine_labelIds.png'):
        _build('cityscapes.py', tmp_path, (4, 4), 'split', 'val')


def test_ade20k_instance_channels_and_original_size(tmp_path):
    h, w = 12, 20
    label = np.full((h, w), 3, np.uint8)
    label[2:8, 2:10] = 21
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[2:8, 2:10, 0] = 9  # instance class 9 = car -> part category 26
    rgb[2:8, 2:10, 1] = 5  # instance id 5
    _save(str(tmp_path / 'images' / 'validation' / 'ADE_val_1.jpg'), np.zeros((h, w, 3), np.uint8))
    _save(str(tmp_path / 'annotations' / 'validation' / 'ADE_val_1.png'), label)
    _save(str(tmp_path / 'annotations_instance' / 'validation' / 'ADE_val_1.png'), rgb)
    dataset, _ = _build('ade20k.py', tmp_path, (16, 16), 'split', 'validation')
    objects = dataset[0]['data_samples'].metainfo['objects']
    assert objects.shape == (1, 8)
    assert objects[0, :2].tolist() == [5, 26] and objects[0, 6:].tolist() == [h, w]


def test_coco_stuff_label_shift_and_instance_classes(tmp_path):
    h, w = 16, 16
    raw = np.full((h, w), 255, np.uint8)  # unlabeled -> 0
    raw[4:12, 4:12] = 2  # raw id 2 (car, category 3) -> label 3
    inst = np.zeros((h, w), np.uint16)
    inst[4:12, 4:12] = 3 * 256 + 1
    _save(str(tmp_path / 'val2017' / '000000000139.jpg'), np.zeros((h, w, 3), np.uint8))
    _save(str(tmp_path / 'stuffthingmaps_trainval2017' / 'val2017' / '000000000139.png'), raw)
    _save(str(tmp_path / 'instance_maps' / 'val2017' / '000000000139.png'), inst)
    dataset, _ = _build('coco_stuff.py', tmp_path, (w, h), 'split', 'val2017')
    sample = dataset[0]
    assert sorted(np.unique(sample['inputs']['label'].numpy()).tolist()) == [0, 3]
    objects = sample['data_samples'].metainfo['objects']
    assert objects[0, :2].tolist() == [3 * 256 + 1, 26]


def test_label_out_of_range_names_file(tmp_path):
    label = np.full((8, 8), 40, np.uint8)  # Cityscapes has ids 0..34
    _save(str(tmp_path / 'leftImg8bit' / 'val' / 'c' / 'c_1_leftImg8bit.png'), np.zeros((8, 8, 3), np.uint8))
    _save(str(tmp_path / 'gtFine' / 'val' / 'c' / 'c_1_gtFine_labelIds.png'), label)
    _save(str(tmp_path / 'gtFine' / 'val' / 'c' / 'c_1_gtFine_instanceIds.png'), label.astype(np.uint16))
    dataset, _ = _build('cityscapes.py', tmp_path, (8, 8), 'split', 'val')
    with pytest.raises(ValueError, match=r'c_1_gtFine_labelIds.png: label values \[40\]'):
        dataset[0]
