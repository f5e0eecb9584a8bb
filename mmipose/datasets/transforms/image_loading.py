"""Image loading that names the file it cannot decode."""
import os.path as osp

import numpy as np
from mmagic.datasets.transforms import LoadImageFromFile

from mmipose.registry import TRANSFORMS


class ImageDecodeError(ValueError):
    """An image file exists but cannot be decoded (truncated, corrupt, not an image)."""


@TRANSFORMS.register_module()
class LoadImageChecked(LoadImageFromFile):
    """MMagic's ``LoadImageFromFile`` with clear errors for missing and corrupt files.

    MMagic 1.2.0 returns ``None`` for bytes it cannot decode and then fails with
    ``AttributeError: 'NoneType' object has no attribute 'ndim'``, without naming the file.
    Here a missing file raises ``FileNotFoundError`` and an undecodable one
    :class:`ImageDecodeError`, both naming the path and the key. Arguments are those of
    ``LoadImageFromFile`` (``key``, ``color_type``, ``channel_order``...).
    """

    def _load_image(self, filename: str) -> np.ndarray:
        if not osp.isfile(filename):
            raise FileNotFoundError(f'{self.key} file not found: {filename}')
        img = super()._load_image(filename)
        if img is None or not isinstance(img, np.ndarray) or img.size == 0:
            raise ImageDecodeError(f'cannot decode {self.key} file {filename} ({osp.getsize(filename)} bytes): '
                                   'the file is corrupt, truncated or not an image')
        return img
