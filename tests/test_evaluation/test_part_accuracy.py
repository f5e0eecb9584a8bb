"""PartAccuracy against hand-counted pixels."""
import math

import torch

from mmipose.registry import METRICS


def _sample(pred, gt, category):
    return dict(pred_parts=torch.tensor(pred), gt_parts=torch.tensor(gt), category=category)


def test_basis_and_novel_accuracy():
    metric = METRICS.build(dict(type='PartAccuracy', novel_categories=[8]))
    # 2x2 maps: car 26 gets 3/4 and 2/4 right, person 24 4/4, cat 8 1/4.
    batch = [
        _sample([[0, 1], [2, 2]], [[0, 1], [2, 3]], 26),
        _sample([[0, 0], [5, 5]], [[0, 1], [5, 4]], 26),
        _sample([[1, 2], [3, 4]], [[1, 2], [3, 4]], 24),
    ]
    metric.process({}, batch)
    metric.process({}, [_sample([[0, 0], [0, 0]], [[0, 1], [1, 1]], 8)])
    results = metric.evaluate(4)
    assert math.isclose(results['PartAccuracy/basis_acc'], 100 * (3 + 2 + 4) / 12)
    assert math.isclose(results['PartAccuracy/novel_acc'], 100 * 1 / 4)
    assert math.isclose(results['PartAccuracy/acc'], 100 * 10 / 16)
    assert math.isclose(results['PartAccuracy/acc_26'], 100 * 5 / 8)
    assert math.isclose(results['PartAccuracy/acc_24'], 100.0)


def test_no_novel_samples_omits_novel_acc():
    metric = METRICS.build(dict(type='PartAccuracy', per_category=False, object_pixels=False))
    metric.process({}, [_sample([[1]], [[1]], 26)])
    assert metric.evaluate(1) == {'PartAccuracy/acc': 100.0, 'PartAccuracy/basis_acc': 100.0}


def test_object_pixel_accuracy_and_constant_part_baseline():
    metric = METRICS.build(dict(type='PartAccuracy', novel_categories=[28], per_category=False))
    # car 26: object pixels (gt > 0) [1, 1, 2] and [1, 3]; predictions right on 2 + 1 of them.
    # The most frequent car part is 1 (3 of 5 object pixels), so the constant baseline is 3/5.
    metric.process({}, [
        _sample([[0, 1], [2, 2]], [[0, 1], [1, 2]], 26),
        _sample([[1, 1], [0, 0]], [[1, 3], [0, 0]], 26),
    ])
    # bus 28 (novel): object pixels [2, 2, 4]; predictions all background -> 0/3; baseline 2/3.
    metric.process({}, [_sample([[0, 0], [0, 0]], [[2, 2], [4, 0]], 28)])
    results = metric.evaluate(3)
    assert math.isclose(results['PartAccuracy/basis_obj_acc'], 100 * 3 / 5)
    assert math.isclose(results['PartAccuracy/basis_obj_baseline'], 100 * 3 / 5)
    assert math.isclose(results['PartAccuracy/novel_obj_acc'], 0.0)
    assert math.isclose(results['PartAccuracy/novel_obj_baseline'], 100 * 2 / 3)
    # whole-crop accuracy still counts background pixels: (3 + 3) / 8 and 1 / 4
    assert math.isclose(results['PartAccuracy/basis_acc'], 100 * 6 / 8)
    assert math.isclose(results['PartAccuracy/novel_acc'], 100 * 1 / 4)


def test_baseline_pools_histograms_per_category():
    """Basis baseline = sum over categories of each one's majority count, not one global majority part."""
    metric = METRICS.build(dict(type='PartAccuracy', novel_categories=[], per_category=False))
    metric.process({},
                   [_sample([[0, 0]], [[1, 1]], 24),
                    _sample([[0, 0]], [[2, 3]], 26),
                    _sample([[0, 0]], [[2, 0]], 26)])
    results = metric.evaluate(3)
    assert math.isclose(results['PartAccuracy/basis_obj_baseline'], 100 * (2 + 2) / 5)
