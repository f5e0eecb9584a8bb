from .distributed import configure_cpu_distributed, destroy_process_group
from .entry_point import setup_entry_point
from .mmcv_guard import MissingMMCVOpError, has_compiled_mmcv_ops, install_mmcv_ops_guard, is_mmcv_ops_guard_installed

__all__ = [
    'configure_cpu_distributed', 'destroy_process_group', 'setup_entry_point', 'MissingMMCVOpError',
    'has_compiled_mmcv_ops', 'install_mmcv_ops_guard', 'is_mmcv_ops_guard_installed'
]
