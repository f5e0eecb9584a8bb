"""COCO-Stuff in the SPADE / authors' layout: same objects as the converter route, classes from dict or labels."""
import json
import os.path as osp
import pickle

import numpy as np
import pytest
from mmengine.config import Config

from mmipose.datasets.converters.coco_instances import main as convert_coco_instances
from mmipose.datasets.instance_format import InstanceFormatError
from mmipose.datasets.object_presence import NoObjectsError
from mmipose.datasets.spade_instances import encode_spade_instances, read_spade_dict
from mmipose.registry import DATASETS
from mmipose.testing.dataset_writers import save_png, write_coco_stuff_spade

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
pytestmark = pytest.mark.usefixtures('mmagic_scope')
H, W = 24, 32


def _build(data_root, split, scale=(W, H), **kwargs):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', 'coco_stuff.py'))
    pipeline = [dict(step, scale=scale) if step['type'] == 'Resize' else dict(step) for step in cfg.val_pipeline]
    dataset_cfg = dict(cfg.val_dataloader.dataset)
    dataset_cfg.update(data_root=str(data_root), split=split, pipeline=pipeline, **kwargs)
    return DATASETS.build(dataset_cfg)


@pytest.fixture
def mm_log():
    """Messages of MMEngine's current logger (it does not propagate to pytest's capture)."""
    import logging

    from mmengine.logging import MMLogger
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def _rect(ann_id, category, x0, y0, x1, y1):
    return dict(
        id=ann_id,
        image_id=1,
        category_id=category,
        iscrowd=0,
        area=float((x1 - x0) * (y1 - y0)),
        bbox=[x0, y0, x1 - x0, y1 - y0],
        segmentation=[[x0, y0, x1, y0, x1, y1, x0, y1]])


ANNOTATIONS = [
    _rect(10, 3, 2, 2, 14, 12),
    _rect(11, 1, 16, 4, 21, 13),
    _rect(12, 3, 22, 2, 30, 8),
    _rect(13, 1, 3, 15, 9, 22),
    _rect(14, 44, 24, 14, 29, 22)
]  # car, person, car, person, bottle


def _write_both_layouts(root):
    """One COCO image in both layouts: converter maps from the json, SPADE's map written by its own rule."""
    from pycocotools.coco import COCO
    data = dict(
        images=[dict(id=1, file_name='000000000001.jpg', height=H, width=W)],
        annotations=ANNOTATIONS,
        categories=[dict(id=c, name=f'c{c}') for c in (1, 3, 44)])
    save_png(osp.join(root, 'annotations', 'x.png'), np.zeros((1, 1), np.uint8))
    with open(osp.join(root, 'annotations', 'instances_val2017.json'), 'w') as f:
        json.dump(data, f)
    coco = COCO(osp.join(root, 'annotations', 'instances_val2017.json'))
    raw = np.full((H, W), 255, np.uint8)
    raw[:6] = 156  # sky
    masks = [coco.annToMask(a) > 0 for a in ANNOTATIONS]
    for ann, mask in zip(ANNOTATIONS, masks):
        raw[mask] = ann['category_id'] - 1
    spade = raw.copy()  # SPADE: the label map with the annotations counted 0, 1... in annotation order
    for count, mask in enumerate(masks):
        spade[mask] = count
    image = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)
    for folder in ('val2017', 'val_img'):
        save_png(osp.join(root, folder, '000000000001.jpg'), image)
    for folder in ('stuffthingmaps_trainval2017/val2017', 'val_label'):
        save_png(osp.join(root, folder, '000000000001.png'), raw)
    save_png(osp.join(root, 'val_inst', '000000000001.png'), spade)
    convert_coco_instances([str(root), '--splits', 'val2017'])
    return raw, spade


@pytest.mark.parametrize('with_dict', [False, True])
def test_spade_layout_gives_the_converter_rows(tmp_path, with_dict, mm_log):
    raw, spade = _write_both_layouts(tmp_path)
    if with_dict:  # the authors' dict: every (label, id) pair with its box, computed independently here
        rows = [[c, v, 0, 0, 0, 0, H, W] for c in np.unique(raw) for v in np.unique(spade[raw == c])]
        np.save(tmp_path / 'val_dict.npy', {'000000000001.png': rows})
    standard = _build(tmp_path, 'val2017')[0]
    authors = _build(tmp_path, 'val2017', layout='spade')[0]
    log = '\n'.join(mm_log)
    assert ('val_dict.npy' in log and "authors' precomputed" in log) == with_dict
    assert ('label map under each instance' in log) != with_dict
    expected = standard['data_samples'].metainfo['objects']
    got = authors['data_samples'].metainfo['objects']
    # car #1, car #2, person #1, person #2, bottle -> 5 objects, category*256+k in both routes
    assert sorted(expected[:, 0].tolist()) == [257, 258, 769, 770, 44 * 256 + 1]
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(authors['inputs']['inst'].numpy(), standard['inputs']['inst'].numpy())


def test_dict_pairs_define_the_objects(tmp_path):
    raw, spade = _write_both_layouts(tmp_path)
    np.save(tmp_path / 'val_dict.npy', {'000000000001.png': [[2, 0, 0, 0, 0, 0, H, W]]})  # only car #1
    objects = _build(tmp_path, 'val', layout='spade')[0]['data_samples'].metainfo['objects']
    assert objects[:, :2].tolist() == [[3 * 256 + 1, 26]]


def test_encode_rule_matches_a_straightforward_loop():
    rng = np.random.default_rng(1)
    label = rng.choice([0, 2, 43, 156, 255], size=(20, 20)).astype(np.uint8)
    inst = rng.integers(0, 4, size=(20, 20)).astype(np.uint8)
    got = encode_spade_instances(label, inst)
    expected = np.zeros((20, 20), np.int64)
    for c in (0, 2, 43):  # thing raw ids; 156 (stuff) and 255 (unlabeled) never objects
        ids = sorted({int(v) for v, lab in zip(inst.ravel(), label.ravel()) if lab == c})
        for y in range(20):
            for x in range(20):
                if label[y, x] == c:
                    expected[y, x] = (c + 1) * 256 + ids.index(int(inst[y, x])) + 1
    np.testing.assert_array_equal(got, expected)


def test_class_less_ids_name_the_file():
    from mmipose.datasets.transforms import InstanceClassFromId
    step = InstanceClassFromId(divisor=256)
    inst = np.array([[0, 3], [769, 769]], np.uint16)  # 3: a SPADE id in a 16-bit file
    with pytest.raises(InstanceFormatError, match=r'a.png: instance values \[3\] below 256 carry no class'):
        step(dict(inst=inst, inst_path='a.png'))
    np.testing.assert_array_equal(step(dict(inst=inst[1:]))['inst_class'], [3, 3])  # squeezed, as before


def test_dict_without_the_image_names_both(tmp_path):
    _write_both_layouts(tmp_path)
    np.save(tmp_path / 'val_dict.npy', {'other.png': []})
    with pytest.raises(KeyError, match="val_dict.npy has no entry '000000000001.png'"):
        _build(tmp_path, 'val', layout='spade')


def test_dict_reader_refuses_code(tmp_path):
    path = tmp_path / 'train_dict.npy'
    np.save(path, {'a.png': [[np.int64(0), np.uint8(3), 1, 2, 3, 4, 5, 6]]})
    assert read_spade_dict(str(path)) == {'a.png': [(0, 3)]}
    evil = np.array(None, dtype=object)
    with open(path, 'wb') as f:
        np.lib.format.write_array_header_1_0(f, np.lib.format.header_data_from_array_1_0(evil))
        f.write(pickle.dumps(print))
    with pytest.raises(ValueError, match='refusing builtins.print'):
        read_spade_dict(str(path))


def test_spade_fixture_writer_and_dict(tmp_path):
    write_coco_stuff_spade(tmp_path, 'train', 3, size=(32, 32), with_dict=True)
    dataset = _build(tmp_path, 'train', scale=(32, 32), layout='spade')
    assert len(dataset) == 3 and all(len(dataset[i]['data_samples'].metainfo['objects']) for i in range(3))
    with pytest.raises(ValueError, match="split must be one of"):
        _build(tmp_path, 'test', layout='spade')


def test_8bit_instance_maps_in_the_standard_layout_fail_at_build(tmp_path):
    """The silent case: SPADE's 8-bit maps where the converter's 16-bit ids are expected."""
    write_coco_stuff_spade(tmp_path, 'val', 2, size=(16, 16))
    for name in ('000000000139', '000000000140'):  # the SPADE maps put where the converter's belong
        for src, dst in (('val_img/{}.jpg', 'val2017/{}.jpg'), ('val_label/{}.png',
                                                                'stuffthingmaps_trainval2017/val2017/{}.png'),
                         ('val_inst/{}.png', 'instance_maps/val2017/{}.png')):
            save_png(tmp_path / dst.format(name), np.array(_read(tmp_path / src.format(name))))
    with pytest.raises(
            InstanceFormatError,
            match=r"instance_maps/val2017/000000000139.png: 8-bit instance map.*"
            r"layout='spade'.*coco_instances.py"):
        _build(tmp_path, 'val2017', scale=(16, 16))


def test_16bit_maps_with_spade_layout_name_the_fix(tmp_path):
    _write_both_layouts(tmp_path)
    save_png(tmp_path / 'val_inst' / '000000000001.png', np.full((H, W), 769, np.uint16))
    with pytest.raises(InstanceFormatError, match="val_inst/000000000001.png: instance ids up to 769.*drop layout"):
        _build(tmp_path, 'val', layout='spade')


def test_no_objects_is_an_error_or_a_loud_warning_for_a_subset(tmp_path):
    write_coco_stuff_spade(tmp_path, 'val', 2, size=(16, 16), object_categories=(92, ))  # stuff only
    with pytest.raises(NoObjectsError, match='none of the 2 images probed.*check_dataset.py'):
        _build(tmp_path, 'val', scale=(16, 16), layout='spade')
    with pytest.warns(UserWarning, match='none of the 1 images probed'):
        assert len(_build(tmp_path, 'val', scale=(16, 16), layout='spade', indices=[0])) == 1
    with pytest.warns(UserWarning, match='none of the 2 images probed'):
        _build(tmp_path, 'val', scale=(16, 16), layout='spade', allow_no_objects=True)


def _read(path):
    from PIL import Image
    with Image.open(path) as image:
        return np.array(image)
