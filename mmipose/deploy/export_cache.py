"""Exported graphs kept per model, so that a graph backend exports a checkpoint once, not per process.

:func:`cached_export` names an export folder after a fingerprint of what the graphs contain (the
weights and buffers of PartNet and of the sampled generator, the classes, the part categories, the
opset and the torch version that traces them) and exports into it only when it does not hold a
complete export yet. The support part maps are graph inputs, not constants, so editing them needs no
new export. The cache lives in ``$MMIPOSE_CACHE_DIR/onnx`` (default ``~/.cache/mmipose/onnx``);
delete a folder there to force a new export.
"""
import hashlib
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log

from .onnx_export import DEFAULT_OPSET, export_sampling_graphs, read_manifest, sampled_generator

CACHE_ENV = 'MMIPOSE_CACHE_DIR'


def cache_root() -> str:
    """``$MMIPOSE_CACHE_DIR/onnx``, or ``~/.cache/mmipose/onnx``."""
    root = os.environ.get(CACHE_ENV) or osp.join(osp.expanduser('~'), '.cache', 'mmipose')
    return osp.join(root, 'onnx')


def _hash_module(digest, prefix: str, module: nn.Module) -> None:
    for name, tensor in sorted(module.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f'{prefix}.{name}:{tensor.dtype}:{tuple(tensor.shape)};'.encode())
        if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16: hash the raw 16-bit words
            tensor = tensor.view(torch.int16)
        digest.update(tensor.numpy().tobytes())


def model_fingerprint(model: nn.Module, part_categories: Dict[int, int], opset: int = DEFAULT_OPSET) -> str:
    """A hex digest that changes whenever the exported graphs of ``model`` would change.

    Args:
        model (nn.Module): an IPOSE sampling model.
        part_categories (dict): label id -> part category of the object classes.
        opset (int): ONNX opset of the export.
    """
    from mmipose import __version__
    digest = hashlib.sha256()
    digest.update(f'mmipose {__version__}; torch {torch.__version__}; opset {opset}; '
                  f'classes {int(model.num_classes)}; parts {sorted(part_categories.items())};'.encode())
    part_inferencer = model.part_inferencer
    bank = part_inferencer.support_bank
    digest.update(f'supports {tuple(bank.supports.shape)} {list(bank.categories)};'.encode())
    _hash_module(digest, 'partnet', part_inferencer.partnet)
    _hash_module(digest, 'generator', sampled_generator(model))
    return digest.hexdigest()[:20]


def _complete(folder: str) -> bool:
    try:
        read_manifest(folder)
    except (FileNotFoundError, ValueError, KeyError):
        return False
    return True


def cached_export(model: nn.Module,
                  part_categories: Dict[int, int],
                  parity_backends: Sequence[str] = ('onnxruntime', ),
                  opset: int = DEFAULT_OPSET) -> str:
    """The export folder of ``model`` in the cache, exported (parity checked) first when missing.

    The export is written to a temporary folder next to its final place and renamed when complete,
    so an interrupted export or two processes exporting the same model never leave a partial folder.

    Args:
        model (nn.Module): an IPOSE sampling model.
        part_categories (dict): label id -> part category of the object classes.
        parity_backends (Sequence[str]): backends the parity is checked on at export.
        opset (int): ONNX opset.

    Returns:
        str: the folder holding ``deploy.json`` and the graphs.
    """
    root = cache_root()
    folder = osp.join(root, model_fingerprint(model, part_categories, opset))
    if _complete(folder):
        print_log(f'ONNX graphs of this model found in the export cache: {folder}', logger='current')
        return folder
    os.makedirs(root, exist_ok=True)
    if osp.isdir(folder):  # an export from an older layout or damaged by hand
        shutil.rmtree(folder, ignore_errors=True)
    print_log(
        f'exporting the sampling graphs once into the export cache {folder} (checked against eager fp32 on '
        f'{list(parity_backends)})',
        logger='current')
    staging = tempfile.mkdtemp(prefix='.export-', dir=root)
    try:
        export_sampling_graphs(model, staging, part_categories, opset=opset, parity_backends=parity_backends)
        try:
            os.rename(staging, folder)
        except OSError:  # another process completed the same export first
            if not _complete(folder):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
