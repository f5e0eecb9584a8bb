"""compute_object_boxes and instances_from_components against literal per-object loops."""
import numpy as np
import pytest

from mmipose.datasets.object_boxes import compute_object_boxes, instances_from_components


def literal_boxes(inst, cls_map, table, original=(1, 1)):
    rows = []
    H, W = inst.shape
    for order, cls in enumerate(table):
        for v in sorted(np.unique(inst[cls_map == cls]).tolist()):
            if v == 0 or cls_map[inst == v].max() != cls:
                continue
            ys, xs = np.nonzero(inst == v)
            hs, he, ws, we = ys.min(), ys.max(), xs.min(), xs.max()
            if (he - hs) % 2 and he + 1 <= H:
                he += 1
            if (he - hs) % 2 and hs - 1 >= 0:
                hs -= 1
            if (we - ws) % 2 and we + 1 <= W:
                we += 1
            if (we - ws) % 2 and ws - 1 >= 0:
                ws -= 1
            if he - hs < 2 or we - ws < 2:
                continue
            rows.append([v, table[cls], hs, he, ws, we, *original])
    return np.asarray(rows, np.int64).reshape(-1, 8)


def test_boxes_match_literal_loop():
    rng = np.random.default_rng(0)
    label = rng.integers(1, 4, (30, 40))
    inst = np.zeros_like(label)
    for k, (cls, y, x, h, w) in enumerate([(5, 0, 0, 7, 9), (6, 10, 30, 20, 10), (5, 12, 5, 3, 3), (5, 29, 39, 1, 1),
                                           (7, 2, 15, 6, 6)]):
        label[y:y + h, x:x + w] = cls
        inst[y:y + h, x:x + w] = cls * 1000 + k + 1
    table = {6: 24, 5: 26}  # class 7 is not an object class
    boxes = compute_object_boxes(inst, label, table, original_size=(300, 400))
    assert np.array_equal(boxes, literal_boxes(inst, label, table, (300, 400)))
    assert boxes[0, 1] == 24 and len(boxes) == 3  # class order of the table; 1-px object dropped


def test_components_give_unique_ids_and_errors():
    label = np.zeros((10, 10), np.int64)
    label[1:3, 1:3] = 5
    label[6:9, 6:9] = 5
    label[5, 0] = 4
    inst = instances_from_components(label, [5, 4])
    assert sorted(np.unique(inst).tolist()) == [0, 4001, 5001, 5002]
    with pytest.raises(ValueError, match='same size'):
        compute_object_boxes(inst, label[:5], {5: 26})
