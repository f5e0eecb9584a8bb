"""PartNet: few-shot part-map prediction from an object shape (iPOSE, CVPR 2023, Sec. 3.1)."""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmipose.registry import MODELS

from .cross_attention import PartCrossAttention
from .inputs import NUM_PARTS, build_query_rows, build_support_rows
from .part_encoder import DECODER_CHANNELS, ENCODER_CHANNELS, PartDecoder, PartShapeEncoder
from .weights import load_partnet_weights


@dataclass(frozen=True)
class SupportEncoding:
    """Everything PartNet needs from the supports, precomputed per attention layer.

    Attributes:
        keys (tuple[Tensor]): one per attention layer, (S, heads, k*T, C/heads): ``key_conv`` and
            MHA's key projection of the shape-encoder tokens (they depend on the set and shot only,
            not on the part).
        values (tuple[Tensor]): one per layer, (S, P, heads, k*T, C/heads): ``value_conv`` and
            MHA's value projection of the mask-encoder tokens of every part channel.
        num_shots (int): k, supports per set.
        map_size (tuple[int, int]): (H, W) of the support maps; queries must have the same size.
    """
    keys: Tuple[Tensor, ...]
    values: Tuple[Tensor, ...]
    num_shots: int
    map_size: Tuple[int, int]

    @property
    def num_sets(self) -> int:
        """S, the number of support sets (rows addressed by ``support_index``)."""
        return self.keys[0].shape[0]


@MODELS.register_module()
class PartNet(nn.Module):
    """Predicts a part map of every object shape, guided by k annotated support part maps.

    Architecture and numerics follow the authors' ``generator_partsyn2.PartGeneratorAttn``:
    a multi-scale shape encoder for the query and the support silhouettes, a mask encoder for each support part
    mask, three cross-attention layers
    (query -> support keys from shapes, values from part masks), a deconvolution decoder and a
    5x5 ``conv_img`` giving one logit per part row. Every object is processed as 9 part rows
    (row p attends to the p-th part masks of its supports). Parameter names and shapes equal the
    official ``best_G.pth`` (86 tensors), so it loads with ``load_state_dict(strict=True)``.

    Differences from the reference, none of which changes the numbers:

    * supports are encoded once by :meth:`encode_supports` (reference: re-read from disk and
      re-encoded at every call) and the attention's support side is precomputed;
    * the query row is identical for the 9 parts, so the query encoder and the first layer's
      query projection run once per object and are broadcast.

    Args:
        num_parts (int): Part channels (9; 0 = background).
        num_attention_layers (int): Cross-attention layers (3 in the released model).
        num_heads (int): Attention heads (1 in the released model).
        encoder_channels (Sequence[int]): Widths of the shape and mask encoders' enc0..enc3
            (the reference's (32, 64, 64, 96); tokens are 3x the last, 288).
        decoder_channels (Sequence[int]): Widths of dec1..dec3 (the reference's (64, 64, 32); the
            last is the part feature width per part row, ``PSMGenerator.partnet_feature_nc``).
            Narrower widths are for small-data runs such as the toy demo; the official weights
            need the defaults.
        checkpoint (str, optional): PartNet weights to load at construction (an official
            ``best_G.pth`` or a file written by ``tools/convert_official_checkpoint.py``),
            see :func:`mmipose.models.partnet.weights.load_partnet_weights`.

    Initialisation is the reference's: Conv/ConvTranspose/Linear weights (MHA ``out_proj``
    included) ``xavier_normal_(gain=0.02)``, biases 0; MHA ``in_proj_weight`` xavier_uniform;
    LayerNorm 1/0. It runs in ``__init__`` (:meth:`reset_parameters`); there is deliberately no
    ``init_weights`` so an MMEngine runner does not overwrite loaded weights.
    """

    def __init__(self,
                 num_parts: int = NUM_PARTS,
                 num_attention_layers: int = 3,
                 num_heads: int = 1,
                 encoder_channels: Sequence[int] = ENCODER_CHANNELS,
                 decoder_channels: Sequence[int] = DECODER_CHANNELS,
                 checkpoint: Optional[str] = None):
        super().__init__()
        self.num_parts = num_parts
        self.num_attention_layers = num_attention_layers
        self.shape_encoder = PartShapeEncoder(5, encoder_channels)
        self.mask_encoder = PartShapeEncoder(1, encoder_channels)
        dim = self.shape_encoder.out_channels
        if dim % num_heads:
            raise ValueError(f'PartNet: num_heads {num_heads} must divide the token width 3 x '
                             f'encoder_channels[3] = {dim}')
        self.decoder = PartDecoder(dim, decoder_channels)
        for i in range(num_attention_layers):
            setattr(self, f'catt{i}', PartCrossAttention(dim, num_heads))
        self.conv_img = nn.Conv2d(self.decoder.out_channels, 1, 5, padding=2)
        self.reset_parameters()
        if checkpoint is not None:
            load_partnet_weights(self, checkpoint)

    @property
    def attention_layers(self) -> Tuple[PartCrossAttention, ...]:
        return tuple(getattr(self, f'catt{i}') for i in range(self.num_attention_layers))

    def reset_parameters(self) -> None:
        """Re-initialise all weights as the reference does (see class docstring)."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                nn.init.xavier_normal_(module.weight, gain=0.02)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.MultiheadAttention):
                nn.init.xavier_uniform_(module.in_proj_weight)
                nn.init.zeros_(module.in_proj_bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def encode_supports(self,
                        support_maps: Tensor,
                        shapes: Optional[Tensor] = None,
                        sets_per_chunk: Optional[int] = None) -> SupportEncoding:
        """Encode S support sets of k one-hot part maps (all support-only work of the forward).

        Args:
            support_maps (Tensor): (S, k, num_parts, H, W) one-hot float part maps (channel 0 =
                background). Differentiable: gradients reach PartNet's weights (and the maps).
            shapes (Tensor, optional): (S, k, 1, H, W) support silhouettes; default
                ``argmax(support_maps) > 0`` (see :func:`~.inputs.build_support_rows`).
            sets_per_chunk (int, optional): Encode this many sets at a time to bound memory
                (the mask encoder sees S*k*num_parts rows). Default: about 256 rows per chunk.

        Returns:
            SupportEncoding: per-layer keys/values, on PartNet's device and dtype.
        """
        if support_maps.dim() != 5 or support_maps.shape[2] != self.num_parts:
            raise ValueError(f'PartNet.encode_supports expects (S, k, {self.num_parts}, H, W) one-hot part maps, '
                             f'got shape {tuple(support_maps.shape)}')
        num_sets, shots = support_maps.shape[:2]
        height, width = support_maps.shape[-2:]
        if height % 32 or width % 32 or height * width <= 32 * 32:
            raise ValueError(f'PartNet works on maps whose sides are multiples of 32 and larger than 32x32 '
                             f'(the coarsest scale is 1/32 and needs > 1 pixel for InstanceNorm); got {height}x{width}')
        if num_sets == 0 or shots == 0:
            raise ValueError(f'PartNet.encode_supports needs at least one set and one shot, '
                             f'got S={num_sets}, k={shots}')
        weight = self.conv_img.weight
        support_maps = support_maps.to(device=weight.device, dtype=weight.dtype)
        if shapes is not None:
            shapes = shapes.to(device=weight.device, dtype=weight.dtype)
        if sets_per_chunk is None:
            sets_per_chunk = max(1, 256 // (shots * self.num_parts))
        per_layer = [([], []) for _ in range(self.num_attention_layers)]
        for start in range(0, num_sets, sets_per_chunk):
            chunk = slice(start, start + sets_per_chunk)
            chunk_shapes = None if shapes is None else shapes[chunk]
            for (keys, values), (k, v) in zip(per_layer, self._encode_support_chunk(support_maps[chunk], chunk_shapes)):
                keys.append(k)
                values.append(v)
        keys = tuple(torch.cat(k) if len(k) > 1 else k[0] for k, _ in per_layer)
        values = tuple(torch.cat(v) if len(v) > 1 else v[0] for _, v in per_layer)
        return SupportEncoding(keys, values, int(shots), tuple(support_maps.shape[-2:]))

    def _encode_support_chunk(self, support_maps: Tensor, shapes: Optional[Tensor]):
        num_sets, shots, num_parts = support_maps.shape[:3]
        shape_rows, mask_rows = build_support_rows(support_maps, shapes)
        shape_tokens = self._tokens(self.shape_encoder(shape_rows.flatten(0, 1)))  # (S*k, T, C)
        mask_tokens = self._tokens(self.mask_encoder(mask_rows.flatten(0, 2)))  # (S*k*P, T, C)
        shape_tokens = shape_tokens.unflatten(0, (num_sets, shots))
        mask_tokens = mask_tokens.unflatten(0, (num_sets, shots, num_parts))
        return [layer.project_supports(shape_tokens, mask_tokens) for layer in self.attention_layers]

    @staticmethod
    def _tokens(features: Tensor) -> Tensor:
        """(B, C, h, w) -> (B, h*w, C), token t = row * w + col (the reference's sequence order)."""
        return features.flatten(2).transpose(1, 2).contiguous()

    def forward(self, query: Tensor, support_index: Tensor, encoding: SupportEncoding) -> Tuple[Tensor, Tensor]:
        """Predict part features and part logits of N object shapes.

        Args:
            query (Tensor): (N, 1, H, W) binary object masks (float {0, 1}), H, W =
                ``encoding.map_size`` (64x64).
            support_index (Tensor): (N,) long, the support set of each object (a row of the
                encoding, e.g. ``SupportBank.index_of(part_categories)``).
            encoding (SupportEncoding): from :meth:`encode_supports` / ``SupportBank.encoding``.

        Returns:
            tuple[Tensor, Tensor]: ``features`` (N, num_parts*D, H, W) part-major (channel =
            p*D + c, post-ReLU decoder output of part row p; D = ``decoder_channels[2]``, 32) and
            ``logits`` (N, num_parts, H, W).
        """
        if query.dim() != 4 or query.shape[1] != 1 or tuple(query.shape[-2:]) != tuple(encoding.map_size):
            raise ValueError(f'PartNet query must be (N, 1, {encoding.map_size[0]}, {encoding.map_size[1]}) object '
                             f'masks matching the supports, got shape {tuple(query.shape)}')
        if support_index.shape != query.shape[:1]:
            raise ValueError(f'support_index must be ({query.shape[0]},), got shape {tuple(support_index.shape)}')
        num_objects, height, width = query.shape[0], query.shape[2], query.shape[3]
        weight = self.conv_img.weight
        if num_objects == 0:
            dim = self.num_parts * self.decoder.out_channels
            return (weight.new_zeros(0, dim, height, width), weight.new_zeros(0, self.num_parts, height, width))
        feature = self.shape_encoder(build_query_rows(query.to(device=weight.device, dtype=weight.dtype)))
        feat_size = feature.shape[-2:]
        tokens = self._tokens(feature).unsqueeze(1)  # (N, 1, T, C): identical for all part rows
        index = support_index.to(device=weight.device, dtype=torch.long)
        for layer, keys, values in zip(self.attention_layers, encoding.keys, encoding.values):
            tokens = layer(tokens, keys.index_select(0, index), values.index_select(0, index))
        tokens = tokens.expand(-1, self.num_parts, -1, -1)  # no-op unless there are no attention layers
        rows = tokens.transpose(-1, -2).reshape(num_objects * self.num_parts, -1, *feat_size)
        features = self.decoder(rows)  # (N*P, D, H, W), row = n * P + p
        # channels-last input: oneDNN's 1-output-channel 5x5 convolution is faster on a CPU that way
        # (forward and backward); a 1-channel output has the same memory either way
        logits = self.conv_img(features.contiguous(memory_format=torch.channels_last))
        return features.view(num_objects, -1, height, width), logits.view(num_objects, self.num_parts, height, width)
