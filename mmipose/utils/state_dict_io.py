"""Reading, re-keying and checking state dicts: helpers shared by the checkpoint converters.

Nothing here knows a network; :mod:`mmipose.models.partnet.weights` (PartNet weights) and
:mod:`mmipose.utils.official_checkpoint` (the authors' iPOSE files) build on it.
"""
import os.path as osp
from typing import Dict, Mapping, Optional, Sequence

import torch
import torch.nn as nn
from torch import Tensor

from mmipose.utils.checkpoint import allow_mmengine_checkpoints

StateDict = Dict[str, Tensor]


class CheckpointConversionError(ValueError):
    """Raised when a state dict does not fit the network it is converted for."""


def read_checkpoint(path: str, hint: str = '', map_location: str = 'cpu') -> dict:
    """Load a checkpoint file with ``weights_only=True``: the one checkpoint reader of mmipose.

    The few non-tensor types MMEngine stores are allow-listed first
    (:func:`mmipose.utils.checkpoint.allow_mmengine_checkpoints`), so no arbitrary unpickling.

    Raises:
        FileNotFoundError: naming ``path`` and ``hint`` (where to get the file).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist' + (f'; {hint}' if hint else ''))
    allow_mmengine_checkpoints()
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(checkpoint, Mapping):
        raise CheckpointConversionError(f'{path} holds a {type(checkpoint).__name__}, expected a state dict')
    return dict(checkpoint)


def map_keys(state_dict: Mapping[str, Tensor],
             strip_prefixes: Sequence[str] = ('module.', ),
             select_prefix: Optional[str] = None,
             renames: Optional[Mapping[str, str]] = None,
             add_prefix: str = '') -> StateDict:
    """Shared key mapping of the converters.

    Args:
        state_dict: source tensors.
        strip_prefixes: prefixes removed (repeatedly, in order) from every key, e.g. DataParallel's
            ``module.``.
        select_prefix: keep only keys starting with this prefix and drop it (e.g.
            ``'partnet.model.'`` to take PartNet out of a generator checkpoint).
        renames: ``{old key prefix: new key prefix}`` applied after stripping/selecting.
        add_prefix: prefix added to every resulting key.

    Returns:
        dict: the mapped state dict (same tensors, new keys).
    """
    mapped: StateDict = {}
    for key, value in state_dict.items():
        changed = True
        while changed:
            changed = False
            for prefix in strip_prefixes:
                if key.startswith(prefix):
                    key, changed = key[len(prefix):], True
        if select_prefix is not None:
            if not key.startswith(select_prefix):
                continue
            key = key[len(select_prefix):]
        for old, new in (renames or {}).items():
            if key.startswith(old):
                key = new + key[len(old):]
                break
        mapped[add_prefix + key] = value
    return mapped


def check_against_model(state_dict: Mapping[str, Tensor], model: nn.Module, name: str) -> None:
    """Raise a :class:`CheckpointConversionError` listing missing, unexpected and mismatched keys."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = [
        f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(v.shape)}' for k, v in expected.items()
        if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or mismatched:
        lines = [f'{name}: the state dict does not match {type(model).__name__}']
        for title, items in (('missing', missing), ('unexpected', unexpected), ('shape mismatch', mismatched)):
            if items:
                more = ' ...' if len(items) > 20 else ''
                lines.append(f'  {title} ({len(items)}): ' + ', '.join(items[:20]) + more)
        raise CheckpointConversionError('\n'.join(lines))


def make_checkpoint(state_dict: StateDict, meta: Optional[dict] = None) -> dict:
    """MMEngine-style checkpoint ``{'meta': {...}, 'state_dict': ...}`` (plain types only, weights_only-safe)."""
    return {'meta': dict(meta or {}), 'state_dict': state_dict}
