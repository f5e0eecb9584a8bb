"""Build an mmipose model from a config and load an MMEngine checkpoint for inference."""
import os.path as osp
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config
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


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the model of a config (e.g. IPOSE), load weights and put it in eval mode.

    Args:
        config (str | Config): config file or object; its ``model`` entry is built.
        checkpoint (str, optional): MMEngine checkpoint (``state_dict`` inside) or plain state dict.
            None keeps the config's initialisation (random weights, PartNet/CLIP from their paths).
        device (str | torch.device): where the model goes.
        cfg_options (dict, optional): overrides merged into the config first.

    Returns:
        nn.Module: the model in eval mode with ``model.cfg`` set.
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config.copy()
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'model' not in cfg:
        raise KeyError(f'init_model: the config {cfg.filename} has no `model` entry.')
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    if cfg.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        state = load_checkpoint_file(checkpoint)
        state_dict = state.get('state_dict', state) if isinstance(state, dict) else state
        _load_checkpoint_to_model(model, dict(state_dict=state_dict), strict=False)
    model.cfg = cfg
    return model.to(device).eval()
