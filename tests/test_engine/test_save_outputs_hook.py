"""IPOSESaveOutputsHook writes images, colourised maps and raw part ids with the input names."""
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import torch
from mmagic.structures import DataSample

from mmipose.registry import HOOKS
from mmipose.visualization.palette import label_palette, part_palette


def _sample(name, seed, with_name=True):
    g = torch.Generator().manual_seed(seed)
    s = DataSample(metainfo=dict(image_name=name) if with_name else {})
    s.ema = DataSample(fake_img=torch.randint(0, 256, (3, 6, 10), generator=g).float())
    s.orig = DataSample(fake_img=torch.zeros(3, 6, 10))
    s.label = torch.randint(0, 5, (1, 6, 10), generator=g)
    s.pred_parts = torch.randint(0, 9, (1, 6, 10), generator=g)
    return s


def test_after_test_iter_writes_all_outputs(tmp_path):
    hook = HOOKS.build(dict(type='IPOSESaveOutputsHook', out_dir='out', num_classes=5))
    runner = SimpleNamespace(work_dir=str(tmp_path), test_dataloader=None)
    hook.before_test(runner)
    samples = [_sample('frankfurt_000000_000294_leftImg8bit.png', 0), _sample(None, 1, False)]
    hook.after_test_iter(runner, 0, None, samples)

    root = tmp_path / 'out'
    names = ['frankfurt_000000_000294_leftImg8bit.png', '000001.png']
    for name, s in zip(names, samples):
        rgb = cv2.imread(str(root / 'image' / name))[..., ::-1]
        bgr = s.ema.fake_img.numpy().astype(np.uint8)
        np.testing.assert_array_equal(rgb, bgr[::-1].transpose(1, 2, 0))
        label_rgb = cv2.imread(str(root / 'label' / name))[..., ::-1]
        np.testing.assert_array_equal(label_rgb, label_palette(5)[s.label.numpy()[0]])
        part_rgb = cv2.imread(str(root / 'part' / name))[..., ::-1]
        np.testing.assert_array_equal(part_rgb, part_palette()[s.pred_parts.numpy()[0]])
        ids = cv2.imread(str(root / 'part_ids' / name), cv2.IMREAD_UNCHANGED)
        assert ids.dtype == np.uint8 and ids.shape == (6, 10)
        np.testing.assert_array_equal(ids, s.pred_parts.numpy()[0])
    assert not osp.exists(root / 'image' / 'None.png')
