"""PartNet input rows: channel order, coordinates and silhouettes."""
import pytest
import torch

from mmipose.models.partnet.inputs import (build_query_rows, build_support_rows, coordinate_channels,
                                           part_index_to_onehot)


def test_coordinates_are_x_then_y():
    coords = coordinate_channels(3, 5)
    assert torch.allclose(coords[0, 1], torch.tensor([-1, -0.5, 0, 0.5, 1]))  # x along the width
    assert torch.allclose(coords[1, :, 2], torch.tensor([-1., 0, 1]))  # y along the height
    assert torch.equal(coords[0, 0], coords[0, 2]) and torch.equal(coords[1, :, 0], coords[1, :, 4])


def test_query_rows():
    mask = (torch.rand(2, 1, 4, 6) > 0.5).float()
    rows = build_query_rows(mask)
    assert rows.shape == (2, 5, 4, 6)
    assert torch.equal(rows[:, :2], coordinate_channels(4, 6).expand(2, -1, -1, -1))
    for c in (2, 3, 4):
        assert torch.equal(rows[:, c], mask[:, 0])
    with pytest.raises(ValueError, match=r'\(N, 1, H, W\)'):
        build_query_rows(mask[:, 0])


def test_support_rows_shape_from_argmax_and_part_masks():
    index = torch.tensor([[[0, 1, 2], [3, 0, 8]]])  # (1, 2, 3)
    onehot = part_index_to_onehot(index)  # (1, 9, 2, 3)
    assert onehot.shape == (1, 9, 2, 3) and torch.equal(onehot.argmax(1), index)
    maps = onehot[None]  # S=1, k=1
    shape_rows, mask_rows = build_support_rows(maps)
    assert shape_rows.shape == (1, 1, 5, 2, 3) and mask_rows.shape == (1, 1, 9, 1, 2, 3)
    silhouette = (index > 0).float()
    for c in (2, 3, 4):
        assert torch.equal(shape_rows[0, 0, c], silhouette[0])
    assert torch.equal(mask_rows[0, 0, 8, 0], (index[0] == 8).float())
    assert torch.equal(shape_rows[0, 0, :2], coordinate_channels(2, 3))
