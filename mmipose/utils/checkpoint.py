"""Make MMEngine checkpoints loadable under torch's ``weights_only=True`` default (torch >= 2.6).

MMEngine 0.10.7 calls ``torch.load`` without ``weights_only``, so on torch >= 2.6 every
``--resume`` / ``load_from`` goes through the restricted unpickler. A checkpoint written by
``Runner.save_checkpoint`` holds, besides tensors and plain containers (measured with
``torch.serialization.get_unsafe_globals_in_checkpoint`` on a Runner-written checkpoint):

- ``mmengine.logging.history_buffer.HistoryBuffer`` (the MessageHub's ``log_scalars``), whose
  pickled state names its statistics functions as ``getattr(HistoryBuffer, 'min')`` etc.;
- numpy arrays and scalars (HistoryBuffer histories, numpy values in ``meta``):
  ``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``, ``numpy.core.multiarray.scalar``,
  ``numpy.dtype``.

Rather than loading with ``weights_only=False`` (arbitrary code execution from a tampered file),
:func:`allow_mmengine_checkpoints` allow-lists exactly these, and maps ``builtins.getattr`` to a
restricted lookup that only resolves HistoryBuffer's statistics methods. The entry points
(:func:`mmipose.utils.setup_entry_point`) and the model loaders (:func:`mmipose.apis.init_model`)
call it, so importing mmipose changes nothing in torch.
"""
import builtins
import glob
import os.path as osp
import pickle
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

_installed = False


def _restricted_getattr(obj: Any, name: str) -> Any:
    """``getattr`` for the weights-only unpickler: only HistoryBuffer's statistics methods.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    allowed = getattr(HistoryBuffer, '_statistics_methods', {})
    if obj is HistoryBuffer and isinstance(name, str) and (name in allowed
                                                           or name in ('min', 'max', 'current', 'mean')):
        return builtins.getattr(obj, name)
    raise pickle.UnpicklingError(f'mmipose weights-only checkpoint loading: refusing getattr({obj!r}, {name!r}); only '
                                 "HistoryBuffer's statistics methods are allowed. If you trust this file, load it with "
                                 'torch.load(path, weights_only=False).')


def _numpy_safe_globals() -> List[Any]:
    """numpy reconstruction callables and types that numpy arrays/scalars pickle into."""
    entries: List[Any] = [np.ndarray, np.dtype]
    # numpy < 2 pickles through numpy.core.multiarray, numpy >= 2 through numpy._core.multiarray.
    for module_name in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        try:
            module = __import__(module_name, fromlist=['_reconstruct', 'scalar'])
        except ImportError:
            continue
        for name in ('_reconstruct', 'scalar'):
            entries.append((getattr(module, name), f'{module_name}.{name}'))
    # numpy >= 1.25 may pickle dtypes through their classes (numpy.dtypes.Float64DType ...).
    for dtype in (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64):
        entries.append(type(np.dtype(dtype)))
    return entries


def mmengine_checkpoint_safe_globals() -> List[Any]:
    """The objects (or ``(object, 'module.name')`` pairs) allow-listed for MMEngine checkpoints."""
    return [HistoryBuffer, (_restricted_getattr, 'builtins.getattr')] + _numpy_safe_globals()


def allow_mmengine_checkpoints() -> None:
    """Register :func:`mmengine_checkpoint_safe_globals` with ``torch.serialization``.

    Idempotent. On torch without ``add_safe_globals`` (< 2.4) nothing is needed: those versions
    default to ``weights_only=False``.
    """
    global _installed
    if _installed or not hasattr(torch.serialization, 'add_safe_globals'):
        return
    torch.serialization.add_safe_globals(mmengine_checkpoint_safe_globals())
    _installed = True


def find_non_finite_tensors(state_dict: Dict[str, Any], limit: int = 5) -> Tuple[List[str], int]:
    """Names of floating-point tensors of a state dict that hold NaN or Inf.

    One host sync for the whole dict (per-tensor flags are stacked first).

    Args:
        state_dict (dict[str, Any]): e.g. ``model.state_dict()``; non-tensors are ignored.
        limit (int): At most this many names are returned.

    Returns:
        tuple[list[str], int]: The first ``limit`` offending names and their total number.
    """
    names, flags = [], []
    for name, value in state_dict.items():
        if torch.is_tensor(value) and value.is_floating_point() and value.numel() > 0:
            names.append(name)
            flag = ~torch.isfinite(value.detach()).all()
            flags.append(flag.to(flags[0].device) if flags else flag)
    if not flags:
        return [], 0
    bad = torch.stack(flags).nonzero().flatten().tolist()
    return [names[i] for i in bad[:limit]], len(bad)


def read_last_checkpoint(work_dir: str) -> Optional[str]:
    """The path ``work_dir/last_checkpoint`` names (MMEngine's resume pointer), or None."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        return f.read().strip()


def find_last_checkpoint(work_dir: str, what: str = 'run') -> str:
    """The checkpoint of a finished MMEngine run: the one ``last_checkpoint`` names, else the newest
    ``iter_*.pth``.

    The pointer may hold the path of a work dir that has moved since, so its file name is also
    looked up in ``work_dir``.

    Args:
        work_dir (str): the run's work dir.
        what (str): the run's name in the error message.

    Raises:
        FileNotFoundError: naming the files expected.
    """
    recorded = read_last_checkpoint(work_dir)
    if recorded:
        for candidate in (recorded, osp.join(work_dir, osp.basename(recorded))):
            if osp.isfile(candidate):
                return candidate
    found = sorted(glob.glob(osp.join(work_dir, 'iter_*.pth')), key=osp.getmtime)
    if found:
        return found[-1]
    raise FileNotFoundError(f'{what}: no checkpoint in {work_dir} (expected {osp.join(work_dir, "last_checkpoint")} '
                            f'naming an existing file, or {osp.join(work_dir, "iter_*.pth")})')
