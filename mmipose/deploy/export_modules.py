"""The three networks of iPOSE sampling as plain tensor-in / tensor-out modules, ready for ``torch.onnx``.

Sampling runs two networks: PartNet (one call on the 64x64 crops of all objects) and the EMA
generator. PartNet reads the supports through a cached :class:`~mmipose.models.partnet.SupportEncoding`
(per attention layer: keys and values), so it is exported as two graphs:

* :class:`SupportEncoderGraph`: support part maps (S, k, 9, 64, 64) -> the encoding (3 keys, 3 values),
  run once per support set (again after ``set_supports``);
* :class:`PartNetGraph`: object masks (N, 1, 64, 64), their support rows (N,) and the encoding ->
  part features and logits; N is dynamic.

The supports are **inputs**, not constants baked into the graph: part editing
(``IPOSEInferencer.set_supports``) then works with every backend without a new export.

:class:`GeneratorGraph` wraps a copy of the generator with its spectral norms folded into plain
weights (eval mode: ``weight / sigma`` with the stored ``u``, ``v``, no power iteration, which is
what the eager forward computes in eval mode), contiguous (NCHW) weights and float32.
"""
import copy
from typing import Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmipose.models.partnet.partnet import PartNet, SupportEncoding


def fold_spectral_norms(module: nn.Module) -> int:
    """Replace every spectral-norm reparametrisation in ``module`` by its current eval-mode weight.

    Args:
        module (nn.Module): changed in place (use a copy).

    Returns:
        int: the number of folded weights.
    """
    from torch.nn.utils.spectral_norm import SpectralNorm
    folded = 0
    for sub in module.modules():
        for key, hook in list(sub._forward_pre_hooks.items()):
            if isinstance(hook, SpectralNorm):
                with torch.no_grad():
                    weight = hook.compute_weight(sub, do_power_iteration=False)
                del sub._forward_pre_hooks[key]
                delattr(sub, hook.name)
                delattr(sub, hook.name + '_u')
                delattr(sub, hook.name + '_v')
                delattr(sub, hook.name + '_orig')
                sub.register_parameter(hook.name, nn.Parameter(weight.detach().clone()))
                folded += 1
    return folded


def _export_copy(module: nn.Module) -> nn.Module:
    """An eval-mode float32 NCHW copy of ``module`` without gradients."""
    module = copy.deepcopy(module).float().eval().requires_grad_(False)
    return module.to(memory_format=torch.contiguous_format)


class GeneratorGraph(nn.Module):
    """The sampled generator with spatial noise as one graph.

    Args:
        generator (nn.Module): a ``PSMGenerator`` with ``part_injection='psm'`` (copied, not changed).

    Inputs / output of :meth:`forward`: onehot (B, C, H, W) float one-hot label map, part_features
    (B, 9*D, H, W), part_logits (B, 9, H, W), z (B, z_dim, H, W) spatial noise, z_part
    (B, part_nc-1, H/32, W/32) -> image (B, 3, H, W) in [-1, 1] (the model's output channel order).
    """

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        if getattr(generator, 'part_injection', None) != 'psm':
            raise ValueError('ONNX export supports the iPOSE generator (PSMGenerator, part_injection=\'psm\'), got '
                             f'{type(generator).__name__} with part_injection='
                             f"{getattr(generator, 'part_injection', None)!r}")
        self.generator = _export_copy(generator)
        self.num_folded = fold_spectral_norms(self.generator)

    def forward(self, onehot: Tensor, part_features: Tensor, part_logits: Tensor, z: Tensor, z_part: Tensor) -> Tensor:
        return self.generator(onehot, part_features, part_logits, z=z, z_part=z_part)


class SupportEncoderGraph(nn.Module):
    """PartNet's support side: (S, k, 9, H, W) one-hot support maps -> keys and values per attention layer.

    Args:
        partnet (PartNet): copied, not changed.

    Returns of :meth:`forward`: ``keys_0 .. keys_{L-1}`` (S, heads, k*T, C/heads), then ``values_0 ..``
    (S, 9, heads, k*T, C/heads), L = the number of attention layers.
    """

    def __init__(self, partnet: PartNet) -> None:
        super().__init__()
        self.partnet = _export_copy(partnet)

    def forward(self, supports: Tensor) -> Tuple[Tensor, ...]:
        layers = self.partnet._encode_support_chunk(supports, None)
        return tuple(k for k, _ in layers) + tuple(v for _, v in layers)


class PartNetGraph(nn.Module):
    """PartNet's query side: object masks and their support rows -> part features and logits.

    Args:
        partnet (PartNet): copied, not changed.
        num_shots (int): k, supports per set.
        map_size (int): side of the masks and supports (64).

    Inputs of :meth:`forward`: query (N, 1, 64, 64) float {0, 1}, support_index (N,) int64, then the
    keys and values of :class:`SupportEncoderGraph`. Outputs: features (N, 9*D, 64, 64), logits
    (N, 9, 64, 64).
    """

    def __init__(self, partnet: PartNet, num_shots: int, map_size: int = 64) -> None:
        super().__init__()
        self.partnet = _export_copy(partnet)
        self.num_shots = int(num_shots)
        self.map_size = (int(map_size), int(map_size))

    def forward(self, query: Tensor, support_index: Tensor, *encoding: Tensor) -> Tuple[Tensor, Tensor]:
        layers = self.partnet.num_attention_layers
        if len(encoding) != 2 * layers:
            raise ValueError(f'PartNetGraph: expected {layers} keys and {layers} values, got {len(encoding)} tensors')
        support = SupportEncoding(tuple(encoding[:layers]), tuple(encoding[layers:]), self.num_shots, self.map_size)
        return self.partnet(query, support_index, support)
