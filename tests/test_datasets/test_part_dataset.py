"""PartNetDataset and the part-pair transforms."""
import os
import random

import numpy as np
import pytest
import torch
from PIL import Image

from mmipose.registry import DATASETS, TRANSFORMS
from mmipose.testing.dataset_writers import part_map as _part
from mmipose.testing.dataset_writers import write_part_pair as _write


@pytest.fixture(autouse=True)
def _mmagic_scope():
    # the dataset's pipeline is built in the current default scope, as under a Runner
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield


PIPELINE = [dict(type='LoadPartPair'), dict(type='ResizePartPair', size=64), dict(type='PackPartInputs')]


def test_samples_categories_and_packing(tmp_path):
    for category in (8, 24, 26):
        for i in range(2):
            _write(str(tmp_path), category, 'train', f'b{i}', _part(i))
    dataset = DATASETS.build(
        dict(
            type='PartNetDataset',
            data_root=str(tmp_path),
            split='train',
            categories=[1, 8, 24, 26],
            selected_categories=[24, 26],
            pipeline=PIPELINE))
    assert len(dataset) == 4
    infos = [dataset.get_data_info(i) for i in range(4)]
    assert [(d['category'], d['category_index'], d['name']) for d in infos] == [(24, 2, 'b0'), (24, 2, 'b1'),
                                                                                (26, 3, 'b0'), (26, 3, 'b1')]
    assert dataset.metainfo['categories'] == [1, 8, 24, 26]
    item = dataset[1]['inputs']
    assert item['shape'].shape == (1, 64, 64) and item['shape'].dtype == torch.float32
    assert item['part'].dtype == torch.long and int(item['category']) == 24
    np.testing.assert_array_equal(item['part'].numpy(), _part(1))
    np.testing.assert_array_equal(item['shape'][0].numpy(), (_part(1) > 0).astype(np.float32))


def test_errors(tmp_path):
    _write(str(tmp_path), 26, 'train', 'a', _part(0))
    with pytest.raises(FileNotFoundError, match='24'):
        DATASETS.build(dict(type='PartNetDataset', data_root=str(tmp_path), categories=[24, 26], pipeline=PIPELINE))
    with pytest.raises(ValueError, match='not in categories'):
        DATASETS.build(dict(type='PartNetDataset', data_root=str(tmp_path), categories=[26], selected_categories=[8]))
    os.remove(tmp_path / '26/train/a_part.png')
    with pytest.raises(FileNotFoundError, match='no _part.png'):
        DATASETS.build(dict(type='PartNetDataset', data_root=str(tmp_path), categories=[26]))


def test_random_augment_keeps_shape_and_parts_aligned():
    augment = TRANSFORMS.build(dict(type='RandomPartAugment'))
    part = _part(0)
    seen_sizes = set()
    random.seed(0)
    for _ in range(24):
        out = augment.transform(dict(shape=(part > 0).astype(np.uint8), part=part.copy()))
        assert out['shape'].shape == (64, 64) and out['part'].shape == (64, 64)
        # identical geometry: part pixels stay inside the shape, labels stay in the original set
        assert np.array_equal(out['shape'] > 0, out['part'] > 0)
        assert set(np.unique(out['part'])) <= {0, 1, 2, 3}
        seen_sizes.add(int((out['shape'] > 0).sum()))
    assert len(seen_sizes) > 2  # resize/rotate/crop actually vary the sample


def test_augment_branches_match_pil_reference():
    """Force the coin flips: resize 72 + rotate + crop + flip equals the same PIL steps done here."""
    part = _part(2)
    coins = iter([0.1, 0.1, 0.1])  # resize branch, rotate, flip
    ints = iter([7, 3, 5])  # angle, left, top

    class FakeRandom:
        random = staticmethod(lambda: next(coins))
        randint = staticmethod(lambda a, b: next(ints))

    import mmipose.datasets.transforms.part_transforms as module
    original = module.random
    module.random = FakeRandom
    try:
        augment = TRANSFORMS.build(dict(type='RandomPartAugment'))
        out = augment.transform(dict(shape=(part > 0).astype(np.uint8), part=part.copy()))
    finally:
        module.random = original
    image = Image.fromarray(part).resize((72, 72), Image.NEAREST).rotate(7, Image.NEAREST, fillcolor=0)
    expected = np.array(image.crop((3, 5, 67, 69)))[:, ::-1]
    np.testing.assert_array_equal(out['part'], expected)
