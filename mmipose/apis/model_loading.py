"""Build an mmipose model from a config and load an MMEngine checkpoint for inference."""
import copy
import logging
import os.path as osp
import re
from typing import Any, Iterator, List, Mapping, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mmipose.registry import MODELS


def load_checkpoint_file(path: str, map_location: str = 'cpu') -> dict:
    """Load a checkpoint written by MMEngine (or a plain state dict) with ``weights_only=True``.

    ``import mmipose`` allow-lists the few non-tensor types MMEngine stores
    (:func:`mmipose.utils.checkpoint.allow_mmengine_checkpoints`), so no arbitrary unpickling.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist (train one with tools/train.py or '
                                'convert an official one with tools/convert_official_checkpoint.py).')
    return torch.load(path, map_location=map_location, weights_only=True)


def _partnet_entries(node: Any, path: Tuple[str, ...] = ()) -> Iterator[Tuple[str, dict]]:
    """``(state-dict prefix, config dict)`` of every ``type='PartNet'`` entry under a model config.

    The prefix is the entry's config path (``model.part_inferencer.partnet`` ->
    ``'part_inferencer.partnet.'``): mmipose modules keep their sub-module configs under the
    attribute names they build them into.
    """
    if isinstance(node, Mapping):
        kind = node.get('type')
        name = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
        if name.split('.')[-1] == 'PartNet':
            yield '.'.join(path) + '.', node
            return
        for key, value in node.items():
            yield from _partnet_entries(value, path + (str(key), ))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _partnet_entries(value, path + (str(i), ))


def use_partnet_weights_from_checkpoint(cfg: Config,
                                        checkpoint: Union[str, Mapping[str, Any]],
                                        source: Optional[str] = None) -> List[str]:
    """Let a full model checkpoint supply PartNet instead of the config's PartNet weight file.

    ``PartNet(checkpoint=...)`` loads its file when the model is built, so building a trained
    iPOSE from its config needs that file although the model checkpoint about to be loaded holds
    the same (or the EMA-averaged) PartNet tensors under ``part_inferencer.partnet.*``. For every
    ``type='PartNet'`` entry of ``cfg.model`` whose ``checkpoint`` is set and whose tensors the
    model checkpoint's ``state_dict`` holds completely (every key with the right shape, after
    MMEngine's ``module.`` stripping), this sets that ``checkpoint`` to None in place and logs
    one line; the ordinary checkpoint loading afterwards fills the weights. Otherwise the entry
    is left alone, so a missing PartNet file still raises its error naming the file.

    Args:
        cfg (Config): the config whose ``model`` is about to be built; modified in place.
        checkpoint (str | Mapping): the model checkpoint file, or its loaded content
            (MMEngine ``{'state_dict': ...}`` or a plain state dict).
        source (str, optional): name of the checkpoint in the log line when ``checkpoint`` is
            already loaded.

    Returns:
        list[str]: state-dict prefixes (e.g. ``'part_inferencer.partnet.'``) whose PartNet now
        comes from the model checkpoint; empty when nothing changed.
    """
    entries = [(prefix, entry) for prefix, entry in _partnet_entries(cfg.get('model'), ())
               if entry.get('checkpoint') is not None]
    if not entries:
        return []
    if isinstance(checkpoint, str):
        source = source or checkpoint
        checkpoint = load_checkpoint_file(checkpoint)
    source = source or 'the model checkpoint'
    state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, Mapping) else {}
    shapes = {re.sub(r'^module\.', '', key): tuple(value.shape)
              for key, value in state_dict.items() if torch.is_tensor(value)}
    from mmipose.models.partnet import PartNet
    switched = []
    for prefix, entry in entries:
        found = {key[len(prefix):]: shape
                 for key, shape in shapes.items() if key.startswith(prefix)}
        if not found:
            continue
        kwargs = {k: v for k, v in entry.items() if k not in ('type', 'checkpoint')}
        with torch.random.fork_rng(devices=[]):  # PartNet's init must not move the global RNG
            expected = {k: tuple(v.shape) for k, v in PartNet(**kwargs).state_dict().items()}
        complete = sum(found.get(k) == shape for k, shape in expected.items())
        if complete != len(expected):
            print_log(f'{source} holds {complete} of the {len(expected)} PartNet tensors under '
                      f"'{prefix}'; PartNet is loaded from the config's {entry['checkpoint']}",
                      logger='current', level=logging.WARNING)
            continue
        print_log(f"PartNet weights ('{prefix}*') come from the model checkpoint {source}, "
                  f"not from the config's {entry['checkpoint']}", logger='current')
        entry['checkpoint'] = None
        switched.append(prefix)
    return switched


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the model of a config (e.g. IPOSE), load weights and put it in eval mode.

    Args:
        config (str | Config): config file or object; its ``model`` entry is built.
        checkpoint (str, optional): MMEngine checkpoint (``state_dict`` inside) or plain state dict.
            None keeps the config's initialisation (random weights, PartNet/CLIP from their paths).
            When it holds all PartNet tensors, the config's PartNet file is not needed
            (:func:`use_partnet_weights_from_checkpoint`).
        device (str | torch.device): where the model goes.
        cfg_options (dict, optional): overrides merged into the config first.

    Returns:
        nn.Module: the model in eval mode with ``model.cfg`` set.
    """
    # deep copy: the PartNet entry below is changed in place and must not leak into the caller's
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'init_model: the config {cfg.filename} has no `model` entry.')
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    state = None
    if checkpoint is not None:
        state = load_checkpoint_file(checkpoint)
        use_partnet_weights_from_checkpoint(cfg, state, source=checkpoint)
    model = MODELS.build(cfg.model)
    if state is not None:
        state_dict = state.get('state_dict', state) if isinstance(state, dict) else state
        _load_checkpoint_to_model(model, dict(state_dict=state_dict), strict=False)
    model.cfg = cfg
    return model.to(device).eval()
