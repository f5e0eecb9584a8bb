"""PartNet weights: the authors' ``best_G.pth`` (or the PartNet inside a generator file) or a
converted / exported mmipose file -> a checked :class:`~mmipose.models.partnet.PartNet` state dict."""
from typing import Mapping

import torch.nn as nn
from torch import Tensor

from mmipose.utils.state_dict_io import StateDict, check_against_model, map_keys, read_checkpoint

#: Where the user gets the PartNet weights (named in every "file missing" error).
PARTNET_SOURCE_HINT = ("get best_G.pth from the authors' release (csyxwei/iPOSE README, Google Drive "
                       'folder) and convert it with tools/convert_official_checkpoint.py')

#: Prefix of PartNet inside the official generator / EMA checkpoints.
OFFICIAL_GENERATOR_PARTNET_PREFIX = 'partnet.model.'


def partnet_state_dict(official: Mapping[str, Tensor],
                       partnet: nn.Module,
                       name: str = 'PartNet checkpoint') -> StateDict:
    """PartNet tensors of an official or mmipose file, checked against ``partnet``.

    Strips ``module.``; if the keys come from a whole official generator (``*_G.pth``/``*_EMA.pth``),
    takes its ``partnet.model.*`` entries (bit-faithful synthesis uses the EMA copy, whose PartNet
    the EMA has averaged). mmipose keeps the reference's parameter names, so no renaming is needed.

    Args:
        official: source tensors.
        partnet: a :class:`~mmipose.models.partnet.PartNet` whose keys and shapes must match.
        name: file or description named in errors.

    Raises:
        CheckpointConversionError: listing missing / unexpected / mismatched keys.
    """
    keys = list(map_keys(official))
    select = None
    if not any(k.startswith('shape_encoder.')
               for k in keys) and any(k.startswith(OFFICIAL_GENERATOR_PARTNET_PREFIX) for k in keys):
        select = OFFICIAL_GENERATOR_PARTNET_PREFIX
    state_dict = {k: v.detach().clone().float() for k, v in map_keys(official, select_prefix=select).items()}
    check_against_model(state_dict, partnet, name)
    return state_dict


def load_partnet_weights(partnet: nn.Module, path: str) -> nn.Module:
    """Load PartNet weights from an official ``best_G.pth`` (or generator file) or a converted file.

    Args:
        partnet: a :class:`~mmipose.models.partnet.PartNet`.
        path: checkpoint path; converted files are ``{'state_dict': ..., 'meta': ...}``.

    Returns:
        the same ``partnet`` (loaded with ``strict=True``).

    Raises:
        FileNotFoundError: naming ``path`` and where to get the weights.
        CheckpointConversionError: when the tensors do not fit PartNet.
    """
    checkpoint = read_checkpoint(path, PARTNET_SOURCE_HINT)
    state_dict = partnet_state_dict(checkpoint.get('state_dict', checkpoint), partnet, name=path)
    partnet.load_state_dict(state_dict, strict=True)
    return partnet
