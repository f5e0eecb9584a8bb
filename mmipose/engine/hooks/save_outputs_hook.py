"""Write test-time outputs (images, colourised label / part maps, raw part ids) to disk."""
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.hooks import Hook

from mmipose.registry import HOOKS
from mmipose.utils.sample_fields import sample_field
from mmipose.visualization.palette import colorize_label, colorize_parts


def _numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


@HOOKS.register_module()
class IPOSESaveOutputsHook(Hook):
    """Save every test output under ``<work_dir>/<out_dir>/``.

    Sub-folders: ``image/`` synthesized image (PNG, correct RGB colours from the BGR
    ``fake_img`` (3,H,W) in [0,255]), ``label/`` colourised ``label`` (1,H,W), ``part/``
    colourised ``pred_parts`` (1,H,W) and ``part_ids/`` the raw part ids as uint8 PNGs.
    File names come from the ``image_name`` or ``img_path`` metainfo basename (extension
    replaced by ``.png``), else the running output index.

    Args:
        out_dir (str): Folder under the runner's work_dir. Defaults to 'test_outputs'.
        sample_model (str): Which branch to save when outputs carry ``ema``/``orig``.
        palette (list, optional): (N,3) RGB label colours; defaults to the test dataset's
            ``metainfo['palette']`` when present, else :func:`label_palette`.
        num_classes (int, optional): Palette size when no palette is known.
    """
    priority = 'LOW'

    def __init__(self,
                 out_dir: str = 'test_outputs',
                 sample_model: str = 'ema',
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 num_classes: Optional[int] = None) -> None:
        self.out_dir = out_dir
        self.sample_model = sample_model
        self.palette = palette
        self.num_classes = num_classes
        self._count = 0

    def before_test(self, runner) -> None:
        self._count = 0
        if self.palette is None:
            dataset = getattr(getattr(runner, 'test_dataloader', None), 'dataset', None)
            metainfo = getattr(dataset, 'metainfo', None) or {}
            palette = metainfo.get('palette')
            if palette is not None:
                self.palette = palette

    def _name(self, sample) -> str:
        for key in ('image_name', 'img_path', 'gt_path'):
            value = sample_field(sample, key)
            if isinstance(value, str) and value:
                return osp.splitext(osp.basename(value))[0] + '.png'
        return f'{self._count:06d}.png'

    def _fake(self, sample):
        branch = sample_field(sample, self.sample_model)
        if branch is not None and sample_field(branch, 'fake_img') is not None:
            return sample_field(branch, 'fake_img')
        fake = sample_field(sample, 'fake_img')
        if fake is None:
            raise KeyError('IPOSESaveOutputsHook: output has no fake_img (3,H,W) BGR [0,255].')
        return fake

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[Sequence] = None) -> None:
        root = osp.join(runner.work_dir, self.out_dir)
        for sub in ('image', 'label', 'part', 'part_ids'):
            os.makedirs(osp.join(root, sub), exist_ok=True)
        for sample in outputs or []:
            name = self._name(sample)
            fake = _numpy(self._fake(sample)).round().clip(0, 255).astype(np.uint8)
            cv2.imwrite(osp.join(root, 'image', name), fake.transpose(1, 2, 0))  # BGR file order
            label = sample_field(sample, 'label')
            if label is not None:
                colour = colorize_label(
                    _numpy(label), num_classes=self.num_classes, palette=self.palette, channel_order='bgr')
                cv2.imwrite(osp.join(root, 'label', name), colour)
            parts = sample_field(sample, 'pred_parts')
            if parts is not None:
                part_ids = _numpy(parts).reshape(_numpy(parts).shape[-2:]).astype(np.uint8)
                cv2.imwrite(osp.join(root, 'part', name), colorize_parts(part_ids, 'bgr'))
                cv2.imwrite(osp.join(root, 'part_ids', name), part_ids)
            self._count += 1
