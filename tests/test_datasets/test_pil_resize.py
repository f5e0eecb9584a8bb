"""PILResize in the Cityscapes, ADE20K and COCO-Stuff pipelines equals Pillow's resize of the files.

The reference's loaders open every file with PIL and resize with torchvision: images BICUBIC, label
and instance maps NEAREST. Each case writes one scene in the dataset's real on-disk format (PNG /
JPEG, 16-bit instance PNGs), runs the shipped pipeline up to its resize steps and compares every
resized key with ``PIL.Image.resize`` of the same file, for 2x enlargement, 2x and 4x shrinking
and a non-integer factor.
"""
import os.path as osp

import mmcv
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

from mmipose.datasets.transforms import PILResize, pil_resize
from mmipose.registry import DATASETS
from mmipose.testing import dataset_writers as writers

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCALE = (48, 32)  # working (w, h)
STORED = {'up2': (16, 24), 'down2': (64, 96), 'down4': (128, 192), 'non-integer': (40, 72)}  # (h, w)

pytestmark = pytest.mark.usefixtures('mmagic_scope')  # see conftest.py


def _add_noise(path, values, where_key=None, seed=0):
    """Random ``values`` on the pixels of ``path`` that are not objects (keeps its dtype and format),
    so that every sampling position of the nearest resize matters."""
    array = np.asarray(Image.open(path))
    rng = np.random.default_rng(seed)
    mask = where_key(array) if where_key is not None else np.ones(array.shape[:2], bool)
    noisy = array.copy()
    noisy[mask] = rng.choice(values, size=int(mask.sum())).astype(array.dtype)
    writers.save_png(path, noisy)


def _pil(path, filter_, mode=None):
    image = Image.open(path)
    if mode is not None:
        image = image.convert(mode)
    return np.asarray(image.resize(SCALE, filter_))


def _resized(base, data_root, split):
    """The shipped val pipeline of ``base`` up to and including its last PILResize step."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', base))
    steps = [dict(step) for step in cfg.val_pipeline]
    last = max(i for i, step in enumerate(steps) if step['type'] == 'PILResize')
    for step in steps[:last + 1]:
        if step['type'] == 'PILResize':
            step['scale'] = SCALE
    dataset_cfg = dict(cfg.val_dataloader.dataset, data_root=str(data_root), split=split, pipeline=steps[:last + 1])
    return DATASETS.build(dataset_cfg)[0]


def _check_image(results, path):
    expected = _pil(path, Image.BICUBIC, 'RGB')[..., ::-1]  # the pipeline keeps BGR
    assert results['img'].dtype == np.uint8 and results['img'].shape == (SCALE[1], SCALE[0], 3)
    assert results['img'].flags.writeable  # the train pipeline flips in place
    np.testing.assert_array_equal(results['img'], expected)


@pytest.mark.parametrize('factor', sorted(STORED))
def test_cityscapes_pipeline_resizes_as_pil(tmp_path, factor):
    stem = writers.write_cityscapes(tmp_path, 'val', 1, size=STORED[factor])[0]
    img = tmp_path / 'leftImg8bit' / 'val' / 'aachen' / f'{stem}_leftImg8bit.png'
    gt = tmp_path / 'gtFine' / 'val' / 'aachen'
    label, inst = gt / f'{stem}_gtFine_labelIds.png', gt / f'{stem}_gtFine_instanceIds.png'
    _add_noise(label, np.arange(0, 24))
    _add_noise(inst, np.arange(256, 1000), where_key=lambda a: a < 1000)  # 16-bit, not objects
    results = _resized('cityscapes.py', tmp_path, 'val')
    _check_image(results, img)
    np.testing.assert_array_equal(results['label'][..., 0], _pil(label, Image.NEAREST))
    expected_inst = _pil(inst, Image.NEAREST)  # Pillow opens the 16-bit PNG as I;16
    assert results['inst'].dtype == np.uint16 and expected_inst.max() > 20000
    np.testing.assert_array_equal(results['inst'][..., 0], expected_inst)


@pytest.mark.parametrize('factor', sorted(STORED))
def test_ade20k_pipeline_resizes_as_pil(tmp_path, factor):
    stem = writers.write_ade20k(tmp_path, 'validation', 1, size=STORED[factor])[0]
    img = tmp_path / 'images' / 'validation' / f'{stem}.jpg'
    label = tmp_path / 'annotations' / 'validation' / f'{stem}.png'
    inst = tmp_path / 'annotations_instance' / 'validation' / f'{stem}.png'
    _add_noise(label, np.arange(0, 151))
    results = _resized('ade20k.py', tmp_path, 'validation')
    _check_image(results, img)
    np.testing.assert_array_equal(results['label'][..., 0], _pil(label, Image.NEAREST))
    rgb = _pil(inst, Image.NEAREST, 'RGB')  # the reference resizes the RGB instance image
    np.testing.assert_array_equal(results['inst'][..., 0], rgb[..., 1])
    np.testing.assert_array_equal(results['inst_class'][..., 0], rgb[..., 0])


@pytest.mark.parametrize('factor', sorted(STORED))
def test_coco_stuff_pipeline_resizes_as_pil(tmp_path, factor):
    stem = writers.write_coco_stuff(tmp_path, 'val2017', 1, size=STORED[factor])[0]
    img = tmp_path / 'val2017' / f'{stem}.jpg'
    label = tmp_path / 'stuffthingmaps_trainval2017' / 'val2017' / f'{stem}.png'
    inst = tmp_path / 'instance_maps' / 'val2017' / f'{stem}.png'
    _add_noise(label, np.r_[np.arange(0, 182), 255])
    # ids of categories without parts (100..149) * 256 + k: 16-bit values, no extra objects
    _add_noise(inst, np.arange(100 * 256, 150 * 256), where_key=lambda a: a == 0)
    results = _resized('coco_stuff.py', tmp_path, 'val2017')
    _check_image(results, img)
    raw = _pil(label, Image.NEAREST)
    np.testing.assert_array_equal(results['label'][..., 0], np.where(raw == 255, 0, raw.astype(np.int64) + 1))
    expected_inst = _pil(inst, Image.NEAREST)
    assert results['inst'].dtype == np.uint16 and expected_inst.max() > 25000
    np.testing.assert_array_equal(results['inst'][..., 0], expected_inst)
    np.testing.assert_array_equal(results['inst_class'][..., 0], expected_inst // 256)


def test_cv2_resizing_differs_from_pil():
    """Why PILResize exists: OpenCV's bicubic and nearest (MMagic's Resize) are other pixels."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (128, 192, 3), dtype=np.uint8)
    ids = rng.integers(0, 60000, (128, 192), dtype=np.uint16)
    assert not np.array_equal(mmcv.imresize(image, SCALE, interpolation='bicubic'), pil_resize(image, SCALE, 'bicubic'))
    assert not np.array_equal(
        mmcv.imresize(ids, SCALE, interpolation='nearest'),
        pil_resize(ids, SCALE, 'nearest')[..., 0])


def test_nearest_keeps_int32_ids_and_float_maps():
    rng = np.random.default_rng(1)
    ids = rng.integers(-2**31, 2**31 - 1, (9, 13), dtype=np.int64).astype(np.int32)
    out = pil_resize(ids, (7, 5), 'nearest')
    assert out.dtype == np.int32 and out.shape == (5, 7, 1)
    np.testing.assert_array_equal(out[..., 0], np.asarray(Image.fromarray(ids).resize((7, 5), Image.NEAREST)))
    floats = rng.random((9, 13), dtype=np.float32)
    np.testing.assert_array_equal(
        pil_resize(floats, (26, 18), 'nearest')[..., 0],
        np.asarray(Image.fromarray(floats).resize((26, 18), Image.NEAREST)))


def test_bad_inputs_name_the_key():
    with pytest.raises(ValueError, match='scale must be'):
        PILResize(keys=['img'], scale=(0, 4))
    with pytest.raises(ValueError, match='interpolation must be one of'):
        PILResize(keys=['img'], scale=(4, 4), interpolation='area')
    resize = PILResize(keys=['label'], scale=(4, 4), interpolation='bicubic')
    with pytest.raises(TypeError, match=r'label \(a.png\).*needs a uint8 image'):
        resize(dict(label=np.zeros((8, 8), np.uint16), label_path='a.png'))
    with pytest.raises(ValueError, match='outside int32'):
        pil_resize(np.full((4, 4), 2**40, np.int64), (2, 2), 'nearest', 'inst')
