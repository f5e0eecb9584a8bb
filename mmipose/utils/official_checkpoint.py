"""Conversion of the authors' released iPOSE checkpoints (csyxwei/iPOSE) to mmipose state dicts.

One ``convert_<network>_state_dict`` function per network, sharing the helpers of
:mod:`mmipose.utils.state_dict_io`; PartNet's own weight handling is in
:mod:`mmipose.models.partnet.weights`; ``tools/convert_official_checkpoint.py`` is the command line. The official
files are plain ``state_dict`` pickles (torch 1.7, tensors possibly on CUDA), keys without ``module.``;
they are read with ``map_location='cpu'`` and ``weights_only=True``.
"""
from typing import Callable, Dict, Iterable, Mapping, Optional, Tuple

import torch
from torch import Tensor

from mmipose.models.partnet.partnet import PartNet
from mmipose.models.partnet.weights import (OFFICIAL_GENERATOR_PARTNET_PREFIX, PARTNET_SOURCE_HINT,
                                            load_partnet_weights, partnet_state_dict)
from mmipose.utils.state_dict_io import (CheckpointConversionError, StateDict, check_against_model, make_checkpoint,
                                         map_keys, read_checkpoint)

# The converter's command line and the tests take the shared helpers from here too.
__all__ = [
    'CheckpointConversionError', 'IPOSE_DISCRIMINATOR_PREFIX', 'IPOSE_EMA_PREFIX', 'IPOSE_GENERATOR_PREFIX',
    'IPOSE_PARTNET_PREFIX', 'OFFICIAL_CONVERTERS', 'OFFICIAL_DISCRIMINATOR_NUM_KEYS', 'OFFICIAL_GENERATOR_NUM_KEYS',
    'OFFICIAL_GENERATOR_PARTNET_PREFIX', 'PARTNET_SOURCE_HINT', 'check_against_model',
    'convert_discriminator_state_dict', 'convert_generator_state_dict', 'convert_ipose_checkpoints',
    'convert_partnet_state_dict', 'count_parameters', 'load_partnet_weights', 'make_checkpoint', 'read_checkpoint'
]


def convert_partnet_state_dict(official: Mapping[str, Tensor], name: str = 'PartNet checkpoint') -> StateDict:
    """Official PartNet weights (``best_G.pth`` or a generator file) -> PartNet state dict,
    checked against a freshly built :class:`~mmipose.models.partnet.PartNet`."""
    return partnet_state_dict(official, PartNet(), name)


#: Key prefixes of the networks inside an :class:`~mmipose.models.editors.IPOSE` state dict.
IPOSE_GENERATOR_PREFIX = 'generator.'
IPOSE_EMA_PREFIX = 'generator_ema.module.'
IPOSE_DISCRIMINATOR_PREFIX = 'discriminator.'
IPOSE_PARTNET_PREFIX = 'part_inferencer.partnet.'

#: Tensor counts of the authors' ``*_G.pth``/``*_EMA.pth`` (any dataset) and ``*_D.pth`` files.
OFFICIAL_GENERATOR_NUM_KEYS = 424
OFFICIAL_DISCRIMINATOR_NUM_KEYS = 132


def _legacy_spectral_norm_to_parametrization(state_dict: StateDict) -> StateDict:
    """``weight_orig / weight_u / weight_v`` (``nn.utils.spectral_norm``) -> the
    ``parametrizations.weight.{original,0._u,0._v}`` names of ``nn.utils.parametrizations``."""
    renamed: StateDict = {}
    for key, value in state_dict.items():
        for old, new in (('weight_orig', 'parametrizations.weight.original'),
                         ('weight_u', 'parametrizations.weight.0._u'), ('weight_v', 'parametrizations.weight.0._v')):
            if key.endswith('.' + old):
                key = key[:-len(old)] + new
                break
        renamed[key] = value
    return renamed


def _convert_sn_network(official: Mapping[str, Tensor], name: str, expected_keys: int, spectral_norm: str) -> StateDict:
    state_dict = {k: v.detach().clone() for k, v in map_keys(official).items()}
    if len(state_dict) != expected_keys:
        raise CheckpointConversionError(f'{name}: {len(state_dict)} tensors, the official file has {expected_keys} '
                                        '; is this the right file (G/EMA vs D)?')
    if spectral_norm == 'parametrization':
        state_dict = _legacy_spectral_norm_to_parametrization(state_dict)
    elif spectral_norm != 'legacy':
        raise ValueError(f"spectral_norm must be 'legacy' or 'parametrization', got {spectral_norm!r}")
    return state_dict


def convert_generator_state_dict(official: Mapping[str, Tensor],
                                 name: str = 'generator checkpoint',
                                 spectral_norm: str = 'legacy') -> StateDict:
    """Official ``*_G.pth`` / ``*_EMA.pth`` (424 tensors) -> ``PSMGenerator`` state dict.

    The generator keeps the reference's module names, so keys map 1:1; the embedded frozen
    PartNet (``partnet.model.*``, 86 tensors) is dropped here: in mmipose it belongs to the
    model's ``part_inferencer`` (convert it with :func:`convert_partnet_state_dict`, which
    accepts a generator file). Spectral-norm ``weight_u``/``weight_v`` are kept: in eval mode
    sigma is computed from them (no power iteration), so they are part of the numerics.
    BN ``num_batches_tracked`` stays int64.

    Args:
        official: the official state dict (keys may carry ``module.``).
        name: shown in errors.
        spectral_norm: 'legacy' (``weight_orig/_u/_v``, as stored) or 'parametrization' (renamed
            for ``torch.nn.utils.parametrizations.spectral_norm``).

    Returns:
        dict: 338 tensors without any model prefix.
    """
    state_dict = _convert_sn_network(official, name, OFFICIAL_GENERATOR_NUM_KEYS, spectral_norm)
    return {k: v for k, v in state_dict.items() if not k.startswith(OFFICIAL_GENERATOR_PARTNET_PREFIX)}


def convert_discriminator_state_dict(official: Mapping[str, Tensor],
                                     name: str = 'discriminator checkpoint',
                                     spectral_norm: str = 'legacy') -> StateDict:
    """Official ``*_D.pth`` (132 tensors) -> ``OASISDiscriminator`` state dict (same key names;
    see :func:`convert_generator_state_dict` for ``spectral_norm``)."""
    return _convert_sn_network(official, name, OFFICIAL_DISCRIMINATOR_NUM_KEYS, spectral_norm)


def convert_ipose_checkpoints(generator: Optional[Mapping[str, Tensor]] = None,
                              ema: Optional[Mapping[str, Tensor]] = None,
                              discriminator: Optional[Mapping[str, Tensor]] = None,
                              spectral_norm: str = 'legacy') -> StateDict:
    """Official G / EMA / D state dicts -> one :class:`~mmipose.models.editors.IPOSE` state dict.

    Keys: ``generator.*`` (from G), ``generator_ema.module.*`` and ``generator_ema.steps`` (from
    EMA), ``discriminator.*`` and ``part_inferencer.partnet.*``. PartNet is taken from the EMA
    file when given, else from G: the reference's EMA also averages the frozen PartNet, which
    drifts slightly from ``best_G.pth``, and its inference uses the EMA copy (see docs/reference_differences.md).
    """
    if generator is None and ema is None and discriminator is None:
        raise ValueError('convert_ipose_checkpoints: give at least one of generator, ema, discriminator')
    out: StateDict = {}
    if generator is not None:
        out.update({
            IPOSE_GENERATOR_PREFIX + k: v
            for k, v in convert_generator_state_dict(generator, 'generator (G) checkpoint', spectral_norm).items()
        })
    if ema is not None:
        out.update({
            IPOSE_EMA_PREFIX + k: v
            for k, v in convert_generator_state_dict(ema, 'EMA checkpoint', spectral_norm).items()
        })
        out['generator_ema.steps'] = torch.tensor(0, dtype=torch.long)
    if discriminator is not None:
        out.update({
            IPOSE_DISCRIMINATOR_PREFIX + k: v
            for k, v in convert_discriminator_state_dict(discriminator, 'discriminator (D) checkpoint',
                                                         spectral_norm).items()
        })
    partnet_source = ema if ema is not None else generator
    if partnet_source is not None:
        partnet = convert_partnet_state_dict(partnet_source, name='PartNet inside the generator checkpoint')
        out.update({IPOSE_PARTNET_PREFIX + k: v for k, v in partnet.items()})
    return out


#: network name -> (converter, default key prefix in the written checkpoint). Extended per network.
OFFICIAL_CONVERTERS: Dict[str, Tuple[Callable[..., StateDict], str]] = {
    'partnet': (convert_partnet_state_dict, ''),
    'generator': (convert_generator_state_dict, IPOSE_GENERATOR_PREFIX),
    'ema': (convert_generator_state_dict, IPOSE_EMA_PREFIX),
    'discriminator': (convert_discriminator_state_dict, IPOSE_DISCRIMINATOR_PREFIX),
}


def count_parameters(state_dict: Mapping[str, Tensor], keys: Optional[Iterable[str]] = None) -> int:
    """Number of elements of the (selected) tensors."""
    return sum(state_dict[k].numel() for k in (keys if keys is not None else state_dict))
