"""tools/build_part_dataset.py on tiny labels written in the real Panoptic-Parts on-disk formats."""
import os.path as osp
import platform

import numpy as np
import pytest
from PIL import Image

from mmipose.datasets import part_dataset_builder
from mmipose.datasets.panoptic_parts_reader import decode_uids, load_spec

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _load_tool():
    return part_dataset_builder


@pytest.fixture(scope='module')
def pp_format(monkeypatch_module=None):
    """The panoptic_parts package's own format module (its import-time version check misreads 3.1x)."""
    original = platform.python_version
    platform.python_version = lambda: '3.9.0'
    try:
        from panoptic_parts.utils import format as pp_format
    finally:
        platform.python_version = original
    return pp_format


def _encode(pp_format, sids, iids, pids):
    return pp_format.encode_ids(*(np.asarray(a, np.int32) for a in (sids, iids, pids)))


def _save_tif(path, uids):
    import os
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(uids.astype(np.int32), mode='I').save(path)


def _expected_crop(array, rows, cols, height, width, size=64):
    """Independent crop: box +2 px, even extents (grow end then start), centred zero pad, floor nearest."""
    hs, he, ws, we = max(rows[0] - 2, 0), min(rows[1] + 2, height), max(cols[0] - 2, 0), min(cols[1] + 2, width)
    if (he - hs) % 2:
        he = he + 1 if he + 1 <= height else he
    if (he - hs) % 2:
        hs -= 1
    if (we - ws) % 2:
        we = we + 1 if we + 1 <= width else we
    if (we - ws) % 2:
        ws -= 1
    crop = array[hs:he, ws:we]
    side = max(crop.shape)
    square = np.zeros((side, side), array.dtype)
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
    src = [int(np.floor(i * side / size)) for i in range(size)]
    return square[np.ix_(src, src)]


def test_decode_matches_package(pp_format):
    uids = np.array([[0, 7, 26, 26001, 2600105, 2600100], [24003, 2400304, 1, 1000, 100001, 9999999]], np.int32)
    ours = decode_uids(uids)
    theirs = pp_format.decode_uids(uids)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match='3 digits'):
        decode_uids(np.array([123]))


def test_build_cityscapes_and_pascal(tmp_path, pp_format):
    tool = _load_tool()
    h, w = 48, 80
    # Cityscapes-PPS: a car (26, iid 1) with window/wheel parts, a rider without instance (crowd), road.
    sids = np.full((h, w), 7, np.int32)
    iids = np.full((h, w), -1, np.int32)
    pids = np.full((h, w), -1, np.int32)
    sids[10:30, 30:50], iids[10:30, 30:50], pids[10:30, 30:50] = 26, 1, 5  # chassis
    pids[10:16, 34:46] = 1  # window
    pids[24:30, 30:36] = 2  # wheel
    pids[20:22, 40:42] = -1  # unlabeled part pixels inside the car -> 0
    sids[0:4, 0:4] = 25  # rider without instance id: not an object
    sids[40:43, 70:73], iids[40:43, 70:73], pids[40:43, 70:73] = 24, 2, 1  # tiny person: skipped
    cs_uids = _encode(pp_format, sids, iids, pids)
    _save_tif(
        str(tmp_path / 'cpp/gtFinePanopticParts/train/aachen/aachen_000000_000019_gtFinePanopticParts.tif'), cs_uids)
    # PASCAL-PPS: a car (sid 7) whose wheel carries the part-instance layer (file pids 20 and 21 = wheel).
    names, folding = load_spec('pascal')
    assert folding[7][21] == names[7].index('wheel') + 1
    p_sids = np.zeros((h, w), np.int32)
    p_iids = np.full((h, w), -1, np.int32)
    p_pids = np.full((h, w), -1, np.int32)
    p_sids[5:40, 5:25], p_iids[5:40, 5:25] = 7, 0
    p_pids[5:40, 5:25] = names[7].index('leftside') + 1
    p_pids[30:40, 5:12] = 20
    p_pids[30:40, 18:25] = 21
    assert folding[7][40] == names[7].index('window') + 1  # file pids 10..19 are doors, 40..59 windows
    p_pids[5:10, 5:25] = 40
    p_sids[0:20, 60:75], p_iids[0:20, 60:75] = 9, 0  # chair: PPP has no chair parts -> not written
    _save_tif(str(tmp_path / 'ppp/labels/validation/2008_000001.tif'), _encode(pp_format, p_sids, p_iids, p_pids))

    result = tool.main([
        '--cityscapes',
        str(tmp_path / 'cpp'), '--pascal',
        str(tmp_path / 'ppp'), '--out',
        str(tmp_path / 'out'), '--min-size', '8'
    ])
    assert dict(result['written']) == {(26, 'train'): 1, (7, 'val'): 1}
    assert result['skipped']['cityscapes'] == 1

    folder = tmp_path / 'out/26/train'
    shape = np.array(Image.open(folder / 'cityscapes_aachen_000000_000019_26_1_label.png'))
    part = np.array(Image.open(folder / 'cityscapes_aachen_000000_000019_26_1_part.png'))
    mask = (sids == 26) & (iids == 1)
    expected_part = np.where(mask, np.where(pids > 0, pids, 0), 0)  # CS indices = CS pids
    np.testing.assert_array_equal(shape, _expected_crop(mask.astype(np.uint8), (10, 29), (30, 49), h, w))
    np.testing.assert_array_equal(part, _expected_crop(expected_part.astype(np.uint8), (10, 29), (30, 49), h, w))
    assert shape.shape == (64, 64) and set(np.unique(part)) == {0, 1, 2, 5}

    p_part = np.array(Image.open(tmp_path / 'out/7/val/pascal_2008_000001_7_0_part.png'))
    car = np.zeros((h, w), np.uint8)
    car[5:40, 5:25] = 5  # sides -> chassis
    car[30:40, 5:12] = 2
    car[30:40, 18:25] = 2  # both wheel instances -> wheel
    car[5:10, 5:25] = 1
    np.testing.assert_array_equal(p_part, _expected_crop(car, (5, 39), (5, 24), h, w))
    assert not (tmp_path / 'out/9').exists()


def test_missing_sources_error(tmp_path):
    tool = _load_tool()
    with pytest.raises(FileNotFoundError, match='gtFinePanopticParts'):
        tool.main(['--cityscapes', str(tmp_path), '--out', str(tmp_path / 'o')])
