"""tools/dataset_converters/coco_instances.py: COCO json -> 16-bit maps -> IPOSECocoStuffDataset objects."""
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmipose.datasets.converters import coco_instances
from mmipose.registry import DATASETS

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _tool():
    return coco_instances


def _rect(ann_id, category, x0, y0, x1, y1, image_id=1, crowd=0):
    """A rectangle annotation as a polygon (COCO xy order)."""
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=category,
        iscrowd=crowd,
        area=float((x1 - x0) * (y1 - y0)),
        bbox=[x0, y0, x1 - x0, y1 - y0],
        segmentation=[[x0, y0, x1, y0, x1, y1, x0, y1]])


def _write_coco(root, h=24, w=32):
    anns = [
        _rect(10, 3, 2, 2, 14, 12),  # car #1 (large)
        _rect(11, 1, 6, 4, 10, 9),  # person on the car: smaller, must stay visible
        _rect(12, 3, 18, 2, 22, 6),  # car #2
        _rect(13, 90, 24, 14, 30, 20),  # toothbrush: id 90*256+1 needs 16 bits
        _rect(14, 1, 2, 16, 12, 22, crowd=1),  # crowd region: not an object
    ]
    data = dict(
        images=[
            dict(id=1, file_name='000000000001.jpg', height=h, width=w),
            dict(id=2, file_name='000000000002.jpg', height=h, width=w)
        ],
        annotations=anns,
        categories=[dict(id=c, name=f'c{c}') for c in (1, 3, 90)])
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    with open(osp.join(root, 'annotations', 'instances_val2017.json'), 'w') as f:
        json.dump(data, f)
    return anns


def test_ids_order_overlap_and_crowd(tmp_path):
    _write_coco(str(tmp_path))
    summary = _tool().main([str(tmp_path), '--splits', 'val2017'])
    assert summary['images'] == {'val2017': 2}
    with Image.open(tmp_path / 'instance_maps' / 'val2017' / '000000000001.png') as image:
        inst = np.array(image)
    assert inst.dtype == np.uint16
    assert inst[7, 4] == 3 * 256 + 1  # first car (annotation-id order)
    assert inst[6, 8] == 1 * 256 + 1  # the person drawn over the larger car
    assert inst[4, 20] == 3 * 256 + 2  # second car
    assert inst[17, 27] == 90 * 256 + 1  # 23041 survives the PNG
    assert inst[19, 6] == 0  # crowd skipped
    assert set(np.unique(inst).tolist()) == {0, 257, 769, 770, 23041}
    assert (inst[inst > 0] > 255).all()  # never a COCO-Stuff label value
    with Image.open(tmp_path / 'instance_maps' / 'val2017' / '000000000002.png') as image:
        assert not np.array(image).any()  # image without annotations: empty map


def test_include_crowd_and_too_many_instances(tmp_path):
    tool = _tool()
    _write_coco(str(tmp_path))
    tool.main([str(tmp_path), '--splits', 'val2017', '--include-crowd', '--out-dir', str(tmp_path / 'with_crowd')])
    with Image.open(tmp_path / 'with_crowd' / 'val2017' / '000000000001.png') as image:
        assert np.array(image)[19, 6] == 1 * 256 + 2
    many = [dict(category_id=5)] * 256
    with pytest.raises(ValueError, match=r'x\.jpg: more than 255 instances of COCO category 5'):
        tool.instance_ids(many, 'x.jpg')


def test_missing_annotation_file_says_where_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'instances_train2017\.json.*cocodataset\.org'):
        _tool().main([str(tmp_path), '--splits', 'train2017'])


def test_converted_maps_give_dataset_objects(tmp_path):
    """Converter output read by the COCO-Stuff config: classes from the ids, table order kept."""
    from mmengine.registry import DefaultScope
    h, w = 24, 32
    _write_coco(str(tmp_path), h, w)
    _tool().main([str(tmp_path), '--splits', 'val2017'])
    images = tmp_path / 'val2017'
    labels = tmp_path / 'stuffthingmaps_trainval2017' / 'val2017'
    os.makedirs(images)
    os.makedirs(labels)
    for stem in ('000000000001', '000000000002'):
        Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(images / f'{stem}.jpg')
        Image.fromarray(np.full((h, w), 255, np.uint8)).save(labels / f'{stem}.png')
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', 'coco_stuff.py'))
    pipeline = [
        dict(step, scale=(w, h)) if step['type'] in ('Resize', 'PILResize') else step for step in cfg.val_pipeline
    ]
    dataset_cfg = dict(cfg.val_dataloader.dataset, data_root=str(tmp_path), pipeline=pipeline)
    with DefaultScope.overwrite_default_scope('mmagic'):
        dataset = DATASETS.build(dataset_cfg)
        first, second = dataset[0], dataset[1]
    objects = first['data_samples'].metainfo['objects']
    # table order: person (category 1 -> part 24) before car (3 -> 26); toothbrush has no part category
    assert objects[:, :2].tolist() == [[257, 24], [769, 26], [770, 26]]
    assert objects[:, 6:].tolist() == [[h, w]] * 3
    assert second['data_samples'].metainfo['objects'].shape == (0, 8)


def test_command_line_with_workers_matches_single_process(tmp_path):
    import subprocess
    import sys
    tool = _tool()
    _write_coco(str(tmp_path))
    subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'dataset_converters', 'coco_instances.py'),
        str(tmp_path), '--splits', 'val2017', '--nproc', '2', '--out-dir',
        str(tmp_path / 'pool')
    ],
                   check=True,
                   capture_output=True)
    tool.main([str(tmp_path), '--splits', 'val2017', '--out-dir', str(tmp_path / 'single')])
    for stem in ('000000000001', '000000000002'):
        with Image.open(tmp_path / 'pool' / 'val2017' / f'{stem}.png') as a, \
                Image.open(tmp_path / 'single' / 'val2017' / f'{stem}.png') as b:
            assert np.array_equal(np.array(a), np.array(b))
