"""ComputeObjectBoxes: boxes from the maps after flips, errors naming the maps."""
import numpy as np
import pytest

from mmipose.datasets.object_boxes import compute_object_boxes
from mmipose.datasets.transforms import ComputeObjectBoxes


def test_boxes_follow_flipped_maps():
    label = np.zeros((12, 20), np.int64)
    label[2:8, 1:6] = 26
    inst = np.where(label == 26, 26001, 0)
    t = ComputeObjectBoxes(part_categories={26: 26})
    flipped = t(dict(label=label[:, ::-1, None], inst=inst[:, ::-1, None]))['objects']
    # mirrored box computed on the flipped map equals the literal mirror of the pixel extent
    ys, xs = np.nonzero(inst[:, ::-1] == 26001)
    assert flipped.tolist() == compute_object_boxes(inst[:, ::-1], label[:, ::-1], {26: 26}).tolist()
    assert flipped[0, 4] == xs.min() - 1 or flipped[0, 4] == xs.min()  # even-extent rule
    assert flipped[0, 5] >= xs.max()


def test_original_size_and_errors():
    label = np.zeros((8, 8), np.int64)
    label[1:5, 1:5] = 3
    t = ComputeObjectBoxes({3: 24}, original_size_key='ori_img_shape')
    out = t(dict(label=label, inst=label * 7, ori_img_shape=(300, 500, 3)))['objects']
    assert out[0].tolist()[-2:] == [300, 500]
    with pytest.raises(KeyError, match="'inst'"):
        ComputeObjectBoxes({3: 24})(dict(label=label))
    with pytest.raises(ValueError, match='differ in size'):
        ComputeObjectBoxes({3: 24})(dict(label=label, inst=label[:4]))
