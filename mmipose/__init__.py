"""mmipose: iPOSE (CVPR 2023) part-aware semantic image synthesis for OpenMMLab.

Importing this package registers every mmipose component into MMagic's registries and does
nothing else to the process, except the mmcv-lite guard below. Process-wide settings (the
weights-only checkpoint allow-list, the denormal flush) belong to the entry points:
:func:`mmipose.utils.setup_entry_point`.
"""
from .utils.mmcv_guard import install_mmcv_ops_guard
from .version import __version__, version_info

# MMagic and MMSeg import ``mmcv.ops`` at module level, which needs mmcv's compiled ``mmcv._ext``; on
# mmcv-lite (no full-mmcv wheel exists for the pinned torch, and iPOSE uses no compiled op) the guard
# registers a stand-in module so those imports succeed, and any compiled op then fails with a clear error.
install_mmcv_ops_guard()

from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401

__all__ = ['__version__', 'version_info']
