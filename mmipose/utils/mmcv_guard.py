"""Let MMagic and MMSeg import on mmcv-lite, which has no compiled ops.

``import mmagic.models`` and ``import mmseg.models`` import ``mmcv.ops`` at module
level, and ``mmcv.ops`` loads the compiled extension ``mmcv._ext``. mmcv-lite ships
without it, yet iPOSE uses no compiled mmcv op. When (and only when) the real
extension is missing, :func:`install_mmcv_ops_guard` registers a stand-in module
whose attributes are functions that raise a clear error when called.
"""
import importlib.machinery
import importlib.util
import sys
import types
from typing import Callable

GUARD_MODULE_NAME = 'mmcv._ext'

INSTALL_HINT = ('Install full mmcv with compiled ops, for example '
                '`pip install -U openmim && mim install "mmcv>=2.0.0,<2.2.0"`; '
                'mmipose itself uses no compiled mmcv op.')


class MissingMMCVOpError(RuntimeError):
    """Raised when a compiled mmcv op is called while only mmcv-lite is installed."""


class _MMCVOpsGuard(types.ModuleType):
    """Stand-in for ``mmcv._ext``: every attribute is an op that refuses to run."""

    def __getattr__(self, op_name: str) -> Callable:
        if op_name.startswith('__'):
            raise AttributeError(op_name)

        def missing_op(*args, **kwargs):
            raise MissingMMCVOpError(f'The compiled mmcv op `{op_name}` is not available: mmcv-lite is '
                                     f'installed, which has no compiled ops. {INSTALL_HINT}')

        missing_op.__name__ = op_name
        return missing_op


def has_compiled_mmcv_ops() -> bool:
    """Whether a real ``mmcv._ext`` extension is importable."""
    existing = sys.modules.get(GUARD_MODULE_NAME)
    if existing is not None:
        return not isinstance(existing, _MMCVOpsGuard)
    try:
        return importlib.util.find_spec(GUARD_MODULE_NAME) is not None
    except (ImportError, ValueError):
        return False


def install_mmcv_ops_guard() -> bool:
    """Register the stand-in ``mmcv._ext`` if the compiled one is missing.

    Returns:
        bool: True if the guard is (now) installed, False if real ops exist.
    """
    if has_compiled_mmcv_ops():
        return False
    if GUARD_MODULE_NAME not in sys.modules:
        guard = _MMCVOpsGuard(GUARD_MODULE_NAME)
        # A spec without loader: `pkgutil.find_loader('mmcv._ext')` (MMEngine's
        # `mmcv_full_available`, called by every non-distributed Runner) then answers None
        # instead of raising on a missing `__spec__`.
        guard.__spec__ = importlib.machinery.ModuleSpec(GUARD_MODULE_NAME, loader=None)
        sys.modules[GUARD_MODULE_NAME] = guard
    return True


def is_mmcv_ops_guard_installed() -> bool:
    """Whether the stand-in module is the one registered as ``mmcv._ext``."""
    return isinstance(sys.modules.get(GUARD_MODULE_NAME), _MMCVOpsGuard)
