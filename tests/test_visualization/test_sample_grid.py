import numpy as np
import pytest
import torch
from mmagic.structures import DataSample

from mmipose.visualization import colorize_parts
from mmipose.visualization.sample_grid import make_grid, samples_to_grid, tensor_to_rgb


def _sample(h=6, w=10, with_real=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    sample = DataSample(
        fake_img=torch.randint(0, 256, (3, h, w), generator=g).float(),
        label=torch.randint(0, 5, (1, h, w), generator=g),
        pred_parts=torch.randint(0, 9, (1, h, w), generator=g))
    if with_real:
        sample.gt_img = torch.randint(0, 256, (3, h, w), generator=g).float()
    return sample


def test_tensor_to_rgb_flips_bgr():
    bgr = torch.tensor([[[10.]], [[20.]], [[30.]]])
    assert tensor_to_rgb(bgr).tolist() == [[[30, 20, 10]]]
    assert tensor_to_rgb(bgr, 'rgb').tolist() == [[[10, 20, 30]]]
    with pytest.raises(ValueError, match='3,H,W'):
        tensor_to_rgb(torch.zeros(1, 2, 2))


def test_make_grid_places_tiles():
    a = np.full((4, 5, 3), 10, np.uint8)
    b = np.full((4, 5, 3), 20, np.uint8)
    grid = make_grid([[a, b], [b, None]], pad=1, pad_value=255)
    assert grid.shape == (2 * 5 + 1, 2 * 6 + 1, 3)
    assert (grid[1:5, 1:6] == 10).all() and (grid[1:5, 7:12] == 20).all()
    assert (grid[6:10, 7:12] == 255).all()  # the None tile stays blank
    with pytest.raises(ValueError, match='every tile'):
        make_grid([[a, np.zeros((3, 5, 3), np.uint8)]])


def test_samples_to_grid_columns():
    samples = [_sample(seed=0), _sample(seed=1)]
    grid = samples_to_grid(samples, titles=None, scale=2)
    h, w, pad = 12, 20, 2
    assert grid.shape == (2 * (h + pad) + pad, 4 * (w + pad) + pad, 3)
    parts_tile = grid[pad:pad + h:2, pad + (w + pad):pad + (w + pad) + w:2]
    np.testing.assert_array_equal(parts_tile, colorize_parts(samples[0].pred_parts))
    fake_tile = grid[pad:pad + h:2, pad + 2 * (w + pad):pad + 2 * (w + pad) + w:2]
    np.testing.assert_array_equal(fake_tile, tensor_to_rgb(samples[0].fake_img))
    # no real image -> three columns
    assert samples_to_grid([_sample(with_real=False)], titles=None).shape[1] == 3 * (10 + pad) + pad
    # ema/orig samples: the ema image is used
    ema = DataSample(
        label=samples[0].label, pred_parts=samples[0].pred_parts, ema=DataSample(fake_img=samples[0].fake_img))
    assert samples_to_grid([ema], titles=None).shape[1] == 3 * (10 + pad) + pad
