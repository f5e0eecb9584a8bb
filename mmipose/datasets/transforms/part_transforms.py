"""Transforms of the 64x64 (object shape, part map) pairs used to pretrain PartNet.

Numerics follow the authors' PartNet training data (``PartSplitDataset.transforms``):
PIL ``NEAREST`` resizes, PIL rotation with fill 0, Python ``random`` for the coin flips (seeded by
MMEngine's ``randomness``). The unused colour image of the reference is dropped.
"""
import random
from typing import Dict

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from PIL import Image

from mmipose.registry import TRANSFORMS


def _read_single_channel(path: str) -> np.ndarray:
    with Image.open(path) as image:
        array = np.array(image)
    if array.ndim == 3:  # the authors' shape PNGs are RGB copies of one channel
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(f'{path}: expected a single-channel (or RGB) PNG, got shape {array.shape}')
    return array.astype(np.uint8)


@TRANSFORMS.register_module()
class LoadPartPair(BaseTransform):
    """Read ``shape_path`` (binary object shape) and ``part_path`` (part indices 0..8).

    Adds ``shape`` (H, W) uint8 in {0, 1} and ``part`` (H, W) uint8.
    """

    def transform(self, results: Dict) -> Dict:
        shape = _read_single_channel(results['shape_path'])
        part = _read_single_channel(results['part_path'])
        if shape.shape != part.shape:
            raise ValueError(f'{results["shape_path"]} {shape.shape} and {results["part_path"]} {part.shape} '
                             'differ in size')
        if part.max(initial=0) > 8:
            raise ValueError(f'{results["part_path"]} holds part index {part.max()}, expected 0..8')
        results['shape'] = (shape > 0).astype(np.uint8)
        results['part'] = part
        return results


def _resize(array: np.ndarray, size: int) -> np.ndarray:
    return np.array(Image.fromarray(array).resize((size, size), Image.NEAREST))


@TRANSFORMS.register_module()
class RandomPartAugment(BaseTransform):
    """The reference's training augmentation of (shape, part) pairs.

    With p=0.5: resize to ``load_size`` (72), then with p=0.5 rotate by ``randint(-15, 16)`` degrees
    (nearest, fill 0), then a random ``crop_size`` (64) crop; otherwise resize to ``crop_size``.
    Then a horizontal flip with p=0.5. Shape and part map get identical geometry.
    """

    def __init__(self, load_size: int = 72, crop_size: int = 64, max_angle: int = 15):
        self.load_size = load_size
        self.crop_size = crop_size
        self.max_angle = max_angle

    def transform(self, results: Dict) -> Dict:
        shape, part = Image.fromarray(results['shape']), Image.fromarray(results['part'])
        if random.random() < 0.5:
            size = (self.load_size, self.load_size)
            shape, part = shape.resize(size, Image.NEAREST), part.resize(size, Image.NEAREST)
            if random.random() < 0.5:
                angle = random.randint(-self.max_angle, self.max_angle + 1)  # the reference's [-15, 16]
                shape = shape.rotate(angle, Image.NEAREST, fillcolor=0)
                part = part.rotate(angle, Image.NEAREST, fillcolor=0)
            left = random.randint(0, max(0, self.load_size - self.crop_size))
            top = random.randint(0, max(0, self.load_size - self.crop_size))
            box = (left, top, left + self.crop_size, top + self.crop_size)
            shape, part = shape.crop(box), part.crop(box)
        else:
            size = (self.crop_size, self.crop_size)
            shape, part = shape.resize(size, Image.NEAREST), part.resize(size, Image.NEAREST)
        shape, part = np.array(shape), np.array(part)
        if random.random() < 0.5:
            shape, part = shape[:, ::-1], part[:, ::-1]
        results['shape'], results['part'] = np.ascontiguousarray(shape), np.ascontiguousarray(part)
        return results


@TRANSFORMS.register_module()
class ResizePartPair(BaseTransform):
    """Nearest-resize shape and part map to ``size`` x ``size`` (the reference's validation transform)."""

    def __init__(self, size: int = 64):
        self.size = size

    def transform(self, results: Dict) -> Dict:
        results['shape'] = _resize(results['shape'], self.size)
        results['part'] = _resize(results['part'], self.size)
        return results


@TRANSFORMS.register_module()
class PackPartInputs(BaseTransform):
    """Pack into ``dict(inputs=dict(shape (1,H,W) float {0,1}, part (H,W) long, category () long))``.

    Batch with ``collate_fn=dict(type='default_collate')``; ``PartNetModel`` reads these keys.
    """

    def transform(self, results: Dict) -> Dict:
        inputs = dict(
            shape=torch.from_numpy(results['shape']).float()[None],
            part=torch.from_numpy(results['part'].astype(np.int64)),
            category=torch.tensor(int(results['category']), dtype=torch.long))
        return dict(inputs=inputs)
