"""tools/select_supports.py: k-medoids on 1-IoU finds obvious shape clusters and writes SupportBank folders."""
import os
import os.path as osp

import numpy as np
from PIL import Image

from mmipose.datasets import support_selection

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _tool():
    return support_selection


def _shape(kind, jitter):
    canvas = np.zeros((64, 64), np.uint8)
    if kind == 'wide':
        canvas[24 + jitter:40, 2:62] = 1
    elif kind == 'tall':
        canvas[2:62, 24 + jitter:40] = 1
    else:  # small centred square
        canvas[26 + jitter:38, 26:38] = 1
    return canvas


def _write_category(folder, counts):
    os.makedirs(folder, exist_ok=True)
    names = {}
    i = 0
    for kind, count in counts.items():
        for jitter in range(count):
            shape = _shape(kind, jitter)
            name = f'obj{i:03d}'
            Image.fromarray(shape).save(osp.join(folder, name + '_label.png'))
            part = shape * (1 + ['wide', 'tall', 'small'].index(kind))
            Image.fromarray(part).save(osp.join(folder, name + '_part.png'))
            names[name] = kind
            i += 1
    return names


def test_iou_distance_matches_direct():
    tool = _tool()
    rng = np.random.default_rng(0)
    shapes = rng.random((5, 8, 8)) > 0.5
    d = tool.iou_distances(shapes)
    for i in range(5):
        for j in range(5):
            inter = np.logical_and(shapes[i], shapes[j]).sum()
            union = np.logical_or(shapes[i], shapes[j]).sum()
            assert np.isclose(d[i, j], 1 - inter / union)


def test_clusters_and_layout(tmp_path):
    tool = _tool()
    kinds = _write_category(str(tmp_path / 'data/26/train'), {'wide': 6, 'tall': 4, 'small': 2})
    _write_category(str(tmp_path / 'data/8/train'), {'small': 3, 'tall': 3})
    chosen = tool.main([str(tmp_path / 'data'), str(tmp_path / 'supports'), '--k', '3', '--seed', '1'])
    # one medoid per obvious cluster, largest cluster first
    assert [kinds[n] for n in chosen[26]] == ['wide', 'tall', 'small']
    files = sorted(os.listdir(tmp_path / 'supports/26'))
    assert files == [f'{i:02d}_{n}_part.png' for i, n in enumerate(chosen[26])]
    medoid = chosen[26][0]
    np.testing.assert_array_equal(
        np.array(Image.open(tmp_path / 'supports/26' / files[0])),
        np.array(Image.open(tmp_path / 'data/26/train' / f'{medoid}_part.png')))
    # deterministic given the seed, and SupportBank reads the folders
    again = tool.select_supports(str(tmp_path / 'data'), str(tmp_path / 'supports2'), k=3, seed=1)
    assert again == chosen
    from mmipose.models.partnet import SupportBank
    bank = SupportBank(str(tmp_path / 'supports'), categories=[8, 26], num_supports=3)
    assert bank.supports.shape == (2, 3, 9, 64, 64)


def test_medoid_is_cluster_centre():
    tool = _tool()
    points = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0, 13.0])
    d = np.abs(points[:, None] - points[None, :])
    medoids, assignment = tool.k_medoids(d, 2, seed=0)
    assert sorted(points[medoids].tolist()) == [1.0, 11.0] or sorted(points[medoids].tolist()) == [1.0, 12.0]
    assert points[medoids[0]] >= 10  # the larger cluster first
    assert assignment.tolist() == [1, 1, 1, 0, 0, 0, 0]
