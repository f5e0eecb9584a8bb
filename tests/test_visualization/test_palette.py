import numpy as np
import pytest
import torch

from mmipose.visualization import colorize_label, colorize_parts, label_palette, overlay_parts, part_palette


def _voc_colour(class_id: int) -> tuple:
    """Straightforward per-id VOC colour map, written independently of the vectorised one."""
    r = g = b = 0
    c = class_id
    for j in range(8):
        r |= ((c >> 0) & 1) << (7 - j)
        g |= ((c >> 1) & 1) << (7 - j)
        b |= ((c >> 2) & 1) << (7 - j)
        c >>= 3
    return r, g, b


def test_label_palette_matches_per_id_rule_and_is_distinct():
    palette = label_palette(256)
    assert palette.shape == (256, 3) and palette.dtype == np.uint8
    for class_id in (0, 1, 7, 26, 34, 150, 255):
        assert tuple(palette[class_id]) == _voc_colour(class_id)
    assert len(np.unique(palette, axis=0)) == 256


def test_part_palette_distinct():
    palette = part_palette()
    assert palette.shape == (9, 3)
    assert len(np.unique(palette, axis=0)) == 9


@pytest.mark.parametrize('as_tensor', [False, True])
@pytest.mark.parametrize('shape', [(5, 7), (1, 5, 7), (5, 7, 1)])
def test_colorize_parts_shapes_and_values(as_tensor, shape):
    rng = np.random.default_rng(0)
    parts = rng.integers(0, 9, size=(5, 7))
    inp = parts.reshape(shape)
    inp = torch.from_numpy(inp) if as_tensor else inp
    rgb = colorize_parts(inp)
    assert rgb.shape == (5, 7, 3) and rgb.dtype == np.uint8
    expected = np.stack([[part_palette()[v] for v in row] for row in parts])
    np.testing.assert_array_equal(rgb, expected)
    np.testing.assert_array_equal(colorize_parts(inp, channel_order='bgr'), expected[..., ::-1])


def test_colorize_label_default_and_custom_palette():
    label = np.array([[0, 1], [2, 3]])
    np.testing.assert_array_equal(colorize_label(label)[1, 1], label_palette(4)[3])
    custom = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]], dtype=np.uint8)
    np.testing.assert_array_equal(colorize_label(label, palette=custom)[1, 0], [7, 8, 9])


def test_bad_inputs_have_clear_errors():
    with pytest.raises(ValueError, match='0..8'):
        colorize_parts(np.array([[9]]))
    with pytest.raises(ValueError, match='shape'):
        colorize_parts(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match='integer'):
        colorize_parts(np.array([[0.5]]))
    with pytest.raises(ValueError, match='num_classes'):
        label_palette(0)


def test_overlay_parts_only_changes_object_pixels():
    image = np.full((2, 2, 3), 100, dtype=np.uint8)
    parts = np.array([[0, 1], [2, 0]])
    out = overlay_parts(image, parts, alpha=0.5)
    np.testing.assert_array_equal(out[0, 0], image[0, 0])
    expected = np.rint(0.5 * 100 + 0.5 * part_palette()[1].astype(np.float32))
    np.testing.assert_array_equal(out[0, 1], expected)
