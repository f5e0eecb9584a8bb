from .distributed import destroy_process_group
from .mmcv_guard import (MissingMMCVOpError, has_compiled_mmcv_ops,
                         install_mmcv_ops_guard, is_mmcv_ops_guard_installed)

__all__ = [
    'destroy_process_group',     'MissingMMCVOpError', 'has_compiled_mmcv_ops', 'install_mmcv_ops_guard',
    'is_mmcv_ops_guard_installed'
]
