"""Build an mmipose model from a config and load an MMEngine checkpoint for inference."""
import copy
import logging
import re
from typing import Any, Iterator, List, Mapping, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mmipose.registry import MODELS
from mmipose.utils.state_dict_io import read_checkpoint


def load_checkpoint_file(path: str, map_location: str = 'cpu') -> dict:
    """Load a checkpoint written by MMEngine (or a plain state dict) with ``weights_only=True``.

    :func:`mmipose.utils.state_dict_io.read_checkpoint` with the hint where checkpoints come from.
    """
    return read_checkpoint(
        path, 'train one with tools/train.py or convert an official one with '
        'tools/convert_official_checkpoint.py',
        map_location=map_location)


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
    shapes = {
        re.sub(r'^module\.', '', key): tuple(value.shape)
        for key, value in state_dict.items() if torch.is_tensor(value)
    }
    from mmipose.models.partnet import PartNet
    switched = []
    for prefix, entry in entries:
        found = {key[len(prefix):]: shape for key, shape in shapes.items() if key.startswith(prefix)}
        if not found:
            continue
        kwargs = {k: v for k, v in entry.items() if k not in ('type', 'checkpoint')}
        with torch.random.fork_rng(devices=[]):  # PartNet's init must not move the global RNG
            expected = {k: tuple(v.shape) for k, v in PartNet(**kwargs).state_dict().items()}
        complete = sum(found.get(k) == shape for k, shape in expected.items())
        if complete != len(expected):
            print_log(
                f'{source} holds {complete} of the {len(expected)} PartNet tensors under '
                f"'{prefix}'; PartNet is loaded from the config's {entry['checkpoint']}",
                logger='current',
                level=logging.WARNING)
            continue
        print_log(
            f"PartNet weights ('{prefix}*') come from the model checkpoint {source}, "
            f"not from the config's {entry['checkpoint']}",
            logger='current')
        entry['checkpoint'] = None
        switched.append(prefix)
    return switched


SAMPLE_MODELS = ('ema', 'orig')


def _sampled_generator(cfg: Config, sample_model: str) -> str:
    """'auto' -> 'ema' when the config's model has an EMA generator, else 'orig'; checks the value."""
    has_ema = cfg.model.get('ema_config') is not None
    if sample_model == 'auto':
        return 'ema' if has_ema else 'orig'
    if sample_model not in SAMPLE_MODELS:
        raise ValueError(f"sample_model must be 'ema', 'orig', 'auto' or None (whole model), "
                         f'got {sample_model!r}')
    if sample_model == 'ema' and not has_ema:
        raise ValueError(f"sample_model='ema' but the config {cfg.filename} has no "
                         'model.ema_config (no EMA generator); use sample_model=\'orig\'')
    return sample_model


def build_sampling_model(cfg: Config, sample_model: str = 'auto') -> nn.Module:
    """Build only what sampling runs: PartNet and one generator (no D, no CLIP style loss).

    The whole IPOSE model holds the discriminator, the CLIP style loss and two generators (the
    trained one and its EMA copy); sampling runs PartNet and one generator. Building the model
    whole and freeing the rest afterwards (:meth:`IPOSE.release_training_modules`) still sets the
    peak memory at build time, so this builds the model from a copy of ``cfg.model`` without
    ``discriminator``, ``loss_config.style_loss`` and ``ema_config``. For ``'ema'`` the one
    generator built is then moved into an EMA wrapper built from ``ema_config`` (around an empty
    module, so nothing is copied) and ``generator`` is set to None: the state-dict keys are the
    full model's (``generator_ema.module.*``, ``generator_ema.steps``), and the result is laid out
    as the full model after ``release_training_modules('ema')``.

    Args:
        cfg (Config): config with a ``model`` entry of type IPOSE; not modified.
        sample_model (str): 'ema', 'orig' or 'auto' ('ema' when the config has ``ema_config``).

    Returns:
        nn.Module: the model (train mode, random weights: load a checkpoint next).
    """
    sample_model = _sampled_generator(cfg, sample_model)
    model_cfg = copy.deepcopy(cfg.model)
    ema_config = model_cfg.pop('ema_config', None)
    model_cfg['ema_config'] = None
    model_cfg['discriminator'] = None
    if model_cfg.get('loss_config') is not None:
        model_cfg['loss_config']['style_loss'] = None
    model = MODELS.build(model_cfg)
    if sample_model == 'ema':
        ema_config = copy.deepcopy(dict(ema_config))
        ema_config.setdefault('type', 'ExponentialMovingAverage')
        model.ema_start = ema_config.pop('start_iter', 0)
        ema = MODELS.build(ema_config, default_args=dict(model=nn.Module()))
        ema.module = model.generator.requires_grad_(False)
        ema.avg_parameters = (ema.module.state_dict() if ema.update_buffers else dict(ema.module.named_parameters()))
        model.generator_ema = ema  # IPOSE.with_ema_gen follows generator_ema
        model.generator = None
    return model


def _load_sampling_weights(model: nn.Module,
                           state_dict: Mapping[str, torch.Tensor],
                           sample_model: str,
                           source: str,
                           loaded_from_files: Tuple[str, ...] = ()) -> None:
    """Strictly load the tensors of what :func:`build_sampling_model` built.

    Every tensor of the model must be in the checkpoint, except under a prefix of
    ``loaded_from_files`` (a PartNet already loaded from its config file) of which the checkpoint
    holds no tensor at all; the checkpoint's tensors of the modules left out (D, the CLIP style
    loss, the generator not sampled) are skipped, any other extra tensor is an error.
    """
    state_dict = {re.sub(r'^module\.', '', k): v for k, v in state_dict.items()}
    sampled = 'generator_ema.module.' if sample_model == 'ema' else 'generator.'
    if not any(k.startswith(sampled) for k in state_dict):
        held = sorted({k.split('.')[0] for k in state_dict})
        hint = (" (it holds 'generator.*': sample from the trained generator with "
                "sample_model='orig')" if sample_model == 'ema' and 'generator' in held else '')
        raise ValueError(f"checkpoint {source} has no weights of the sampled generator "
                         f"'{sampled}*' (sample_model={sample_model!r}); its top-level keys are "
                         f'{held}{hint}.')
    left_out = ('discriminator.', 'losses.style_loss.', 'generator.' if sample_model == 'ema' else 'generator_ema.')
    kept = {k: v for k, v in state_dict.items() if not k.startswith(left_out)}
    expected = set(model.state_dict())
    from_files = tuple(p for p in loaded_from_files if not any(k.startswith(p) for k in kept))
    missing = sorted(k for k in expected - set(kept) if not any(k.startswith(prefix) for prefix in from_files))
    unexpected = sorted(set(kept) - expected)
    if missing or unexpected:
        raise ValueError(f'checkpoint {source} does not match the sampling model '
                         f'(sample_model={sample_model!r}): missing {missing[:10]} '
                         f'({len(missing)} in all), unexpected {unexpected[:10]} '
                         f'({len(unexpected)} in all).')
    model.load_state_dict(kept, strict=not from_files)


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None,
               sample_model: Optional[str] = None) -> nn.Module:
    """Build the model of a config (e.g. IPOSE), load weights and put it in eval mode.

    Args:
        config (str | Config): config file or object; its ``model`` entry is built.
        checkpoint (str, optional): MMEngine checkpoint (``state_dict`` inside) or plain state dict.
            None keeps the config's initialisation (random weights, PartNet/CLIP from their paths).
            When it holds all PartNet tensors, the config's PartNet file is not needed
            (:func:`use_partnet_weights_from_checkpoint`).
        device (str | torch.device): where the model goes.
        cfg_options (dict, optional): overrides merged into the config first.
        sample_model (str, optional): None builds the whole model (training modules included;
            checkpoint tensors it lacks are skipped). 'ema', 'orig' or 'auto' ('ema' when the
            config has ``ema_config``) build only what sampling with that generator runs
            (:func:`build_sampling_model`) and load the checkpoint strictly: a checkpoint without
            that generator's weights is an error.

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
    if sample_model is not None:
        sample_model = _sampled_generator(cfg, sample_model)
    state = None
    if checkpoint is not None:
        state = load_checkpoint_file(checkpoint)
        use_partnet_weights_from_checkpoint(cfg, state, source=checkpoint)
    if sample_model is None:
        model = MODELS.build(cfg.model)
    else:
        model = build_sampling_model(cfg, sample_model)
    if state is not None:
        state_dict = state.get('state_dict', state) if isinstance(state, dict) else state
        if sample_model is None:
            _load_checkpoint_to_model(model, dict(state_dict=state_dict), strict=False)
        else:
            from_files = tuple(prefix for prefix, entry in _partnet_entries(cfg.model)
                               if entry.get('checkpoint') is not None)
            _load_sampling_weights(model, state_dict, sample_model, checkpoint, from_files)
    model.cfg = cfg
    return model.to(device).eval()
