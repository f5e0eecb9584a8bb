"""Palette snapping, upload parsing and instance assignment of the painter (no browser, no model)."""
import base64

import cv2
import numpy as np
import pytest

from mmipose.painter import (assign_instances, canvas_payload, decode_image, encode_png, parse_instance_image,
                             parse_label_image, resize_nearest, snap_to_palette)

PALETTE = np.array([[0, 0, 0], [70, 130, 180], [128, 64, 128], [0, 0, 142]], np.uint8)  # void sky road car
CAR = 3


def _nearest_by_loop(rgb, palette):
    """Straightforward reference: every pixel against every palette colour."""
    ids = np.zeros(rgb.shape[:2], np.int64)
    changed = 0
    for y in range(rgb.shape[0]):
        for x in range(rgb.shape[1]):
            distances = [int(((rgb[y, x, :3].astype(int) - c.astype(int))**2).sum()) for c in palette]
            ids[y, x] = int(np.argmin(distances))
            changed += min(distances) > 0
    return ids, changed


def _scene():
    label = np.ones((8, 12), np.int64)
    label[4:] = 2
    label[5:7, 2:5] = CAR
    label[5:7, 5:8] = CAR  # touching the first car
    return label


def test_snapping_matches_a_per_pixel_search_and_counts_changed_pixels():
    rng = np.random.default_rng(0)
    clean = PALETTE[_scene()]
    noisy = np.clip(clean.astype(int) + rng.integers(-20, 21, clean.shape), 0, 255).astype(np.uint8)
    noisy[0, 0] = clean[0, 0]  # some pixels stay exact
    ids, changed = snap_to_palette(noisy, PALETTE)
    expected_ids, expected_changed = _nearest_by_loop(noisy, PALETTE)
    np.testing.assert_array_equal(ids, expected_ids)
    assert changed == expected_changed > 0
    np.testing.assert_array_equal(ids, _scene())  # noise of +-20 stays nearest to the right colour
    ids, changed = snap_to_palette(clean, PALETTE)
    np.testing.assert_array_equal(ids, _scene())
    assert changed == 0


def test_anti_aliased_edges_and_transparent_pixels():
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, 0] = [70, 130, 180, 255]  # sky
    rgba[0, 1] = [99, 97, 154, 255]  # half sky, half road: an anti-aliased edge
    rgba[0, 2] = [128, 64, 128, 0]  # transparent (erased)
    ids, changed = snap_to_palette(rgba, PALETTE)
    reference, _ = _nearest_by_loop(rgba[..., :3], PALETTE)
    assert ids[0, 0] == 1 and ids[0, 1] == reference[0, 1] and ids[0, 2] == 0
    assert changed == 1


def test_label_upload_as_ids_8_and_16_bit_and_as_colours(tmp_path):
    label = _scene()
    for dtype in (np.uint8, np.uint16):
        path = str(tmp_path / f'ids_{np.dtype(dtype).itemsize}.png')
        cv2.imwrite(path, label.astype(dtype))
        parsed = parse_label_image(decode_image(path, 'ids'), PALETTE, 4, label.shape)
        np.testing.assert_array_equal(parsed.array, label)
        assert parsed.messages == []
    path = str(tmp_path / 'colours.png')
    cv2.imwrite(path, PALETTE[label][..., ::-1])
    parsed = parse_label_image(decode_image(path, 'colours'), PALETTE, 4, label.shape)
    np.testing.assert_array_equal(parsed.array, label)
    assert parsed.messages == []


def test_lossy_upload_is_snapped_and_the_count_is_shown(tmp_path):
    label = np.repeat(np.repeat(_scene(), 4, 0), 4, 1)
    path = str(tmp_path / 'lossy.jpg')
    cv2.imwrite(path, PALETTE[label][..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    parsed = parse_label_image(decode_image(path, 'lossy'), PALETTE, 4, label.shape)
    _, changed = snap_to_palette(decode_image(path, 'lossy'), PALETTE)
    assert changed > 0 and f'{changed} pixels' in parsed.messages[0]
    assert (parsed.array == label).mean() > 0.95


def test_unknown_ids_and_other_sizes():
    label = _scene()
    bad = label.copy()
    bad[0, :3] = 9
    with pytest.raises(ValueError, match=r'class ids \[9\] are unknown to the model \(it knows 0..3\); 3 pixels'):
        parse_label_image(bad.astype(np.uint8), PALETTE, 4, label.shape)
    parsed = parse_label_image(label.astype(np.uint8), PALETTE, 4, (16, 24))
    np.testing.assert_array_equal(parsed.array, np.repeat(np.repeat(label, 2, 0), 2, 1))
    assert 'resized (nearest)' in parsed.messages[0] and '8x12' in parsed.messages[0]
    np.testing.assert_array_equal(resize_nearest(parsed.array, label.shape), label)


def test_instance_upload_grey_and_canvas_rgb_encoding():
    inst = np.zeros((4, 6), np.int64)
    inst[1:3, 1:3] = 3001
    inst[1:3, 3:5] = 3002
    np.testing.assert_array_equal(parse_instance_image(inst.astype(np.uint16), (4, 6)).array, inst)
    rgb = np.stack([inst >> 8, inst & 255, np.zeros_like(inst)], -1).astype(np.uint8)
    np.testing.assert_array_equal(parse_instance_image(rgb, (4, 6)).array, inst)


def test_touching_objects_stay_apart_and_others_are_numbered():
    label = _scene()
    inst = np.zeros_like(label)
    inst[5:7, 2:5] = 3001
    inst[5:7, 5:8] = 3002
    out = assign_instances(label, inst, [CAR])
    np.testing.assert_array_equal(out, inst)  # canvas values kept: two touching cars stay two
    merged = assign_instances(label, None, [CAR])  # no instance map: one connected component
    assert set(np.unique(merged).tolist()) == {0, 3001}
    foreign = np.where(inst == 3001, 17, np.where(inst == 3002, 4, 0))  # another numbering
    out = assign_instances(label, foreign, [CAR])
    assert out[5, 2] == 3002 and out[5, 5] == 3001  # renumbered in the order of the source values
    stuff = assign_instances(label, np.full_like(label, 5), [CAR])
    assert (stuff[label != CAR] == 0).all() and len(np.unique(stuff[label == CAR])) == 1
    with pytest.raises(ValueError, match='same size'):
        assign_instances(label, inst[:2], [CAR])


def test_pngs_and_canvas_payload_are_lossless():
    inst = np.array([[0, 7001], [7002, 65535]])
    decoded = decode_image('data:image/png;base64,' + base64.b64encode(encode_png(inst)).decode(), 'inst')
    assert decoded.dtype == np.uint16
    np.testing.assert_array_equal(decoded, inst)
    image = np.random.default_rng(1).integers(0, 256, (5, 7, 3)).astype(np.uint8)
    np.testing.assert_array_equal(decode_image(encode_png(image), 'image'), image)
    payload = canvas_payload(_scene(), inst.repeat(4, 0).repeat(6, 1))
    assert (payload['height'], payload['width']) == (8, 12)
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(payload['label']), '<u2').reshape(8, 12), _scene())
    with pytest.raises(ValueError, match='not a readable image'):
        decode_image(b'not a png', 'upload')
