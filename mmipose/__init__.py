"""mmipose: iPOSE (CVPR 2023) part-aware semantic image synthesis for OpenMMLab.

Importing this package registers every mmipose component into MMagic's registries.
On mmcv-lite (no compiled ops) it first installs a guard so ``mmagic.models`` and
``mmseg.models`` import; see :mod:`mmipose.utils.mmcv_guard`.
"""
from .utils.mmcv_guard import install_mmcv_ops_guard
from .version import __version__, version_info

install_mmcv_ops_guard()

from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401

__all__ = ['__version__', 'version_info']
