"""PartNet's cross-attention layer, split into a support side (cacheable) and a query side."""
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


class QuickGELU(nn.Module):
    """``x * sigmoid(1.702 x)`` (the CLIP-style GELU approximation used by the reference MLP)."""

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.sigmoid(1.702 * x)


def _pointwise(conv: nn.Sequential, tokens: Tensor) -> Tensor:
    """Apply the 1x1 conv held in ``conv[0]`` to channel-last tokens (..., C)."""
    layer = conv[0]
    return F.linear(tokens, layer.weight.flatten(1), layer.bias)


class PartCrossAttention(nn.Module):
    """Cross-attention from query-shape tokens to support (shape -> key, part mask -> value) tokens.

    Reference (the authors' ``CrossAttentionLayer``), per query row:
    ``q = query_conv(Q)``, ``k_j = key_conv(shape_j)``, ``v_j = value_conv(mask_j)`` (1x1 convs);
    ``a = MHA(q, cat_j k_j, cat_j v_j)`` (its own in/out projections, scale 1/sqrt(head_dim));
    ``x = Q + LN1(a)`` (LayerNorm on the attention output, residual on the *unprojected* query);
    ``x = x + MLP(LN2(x))`` with MLP = Linear(C, 4C) -> QuickGELU -> Linear(4C, C).

    Here the layer is split so the support side is computed once and cached:
    :meth:`project_supports` applies ``key_conv``/``value_conv`` *and* MHA's key/value input
    projections; :meth:`forward` does the query-side work only. Parameter names equal the
    reference's (``multihead_attn.in_proj_weight`` rows = q | k | v), so official weights load as is.

    Args:
        dim (int): Token width C (288 = 3 x 96 multi-scale channels).
        num_heads (int): Attention heads (the reference uses 1).
        mlp_ratio (int): MLP hidden width / C.
    """

    def __init__(self, dim: int = 288, num_heads: int = 1, mlp_ratio: int = 4):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim={dim} is not divisible by num_heads={num_heads}')
        self.dim = dim
        self.num_heads = num_heads
        self.query_conv = nn.Sequential(nn.Conv2d(dim, dim, 1))
        self.key_conv = nn.Sequential(nn.Conv2d(dim, dim, 1))
        self.value_conv = nn.Sequential(nn.Conv2d(dim, dim, 1))
        # Holds in_proj_weight/in_proj_bias/out_proj with the reference's names; computed by hand below.
        self.multihead_attn = nn.MultiheadAttention(dim, num_heads)
        self.ln1 = nn.LayerNorm(dim)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * mlp_ratio), QuickGELU(), nn.Linear(dim * mlp_ratio, dim))

    def _in_proj(self, tokens: Tensor, which: int) -> Tensor:
        """MHA input projection ``which`` (0 = q, 1 = k, 2 = v) of tokens (..., C)."""
        rows = slice(which * self.dim, (which + 1) * self.dim)
        attn = self.multihead_attn
        return F.linear(tokens, attn.in_proj_weight[rows], attn.in_proj_bias[rows])

    def _split_heads(self, tokens: Tensor) -> Tensor:
        """(..., L, C) -> (..., heads, L, C/heads)."""
        head_dim = self.dim // self.num_heads
        return tokens.unflatten(-1, (self.num_heads, head_dim)).transpose(-3, -2)

    def project_supports(self, shape_tokens: Tensor, mask_tokens: Tensor) -> Tuple[Tensor, Tensor]:
        """Keys and values of the supports, ready for :meth:`forward` (cacheable).

        Args:
            shape_tokens (Tensor): (S, k, T, C) shape-encoder tokens of the k shots of S sets
                (token t = h * w_feat + w).
            mask_tokens (Tensor): (S, k, P, T, C) mask-encoder tokens of every part channel.

        Returns:
            tuple[Tensor, Tensor]: ``keys`` (S, heads, k*T, C/heads) (shared by all parts) and
            ``values`` (S, P, heads, k*T, C/heads); the sequence is shot-major (j * T + t), as the
            reference concatenates the shots.
        """
        num_sets, shots, num_tokens, _ = shape_tokens.shape
        keys = self._in_proj(_pointwise(self.key_conv, shape_tokens), 1)
        keys = keys.reshape(num_sets, shots * num_tokens, self.dim)
        values = self._in_proj(_pointwise(self.value_conv, mask_tokens), 2)  # (S, k, P, T, C)
        values = values.transpose(1, 2).reshape(num_sets, mask_tokens.shape[2], shots * num_tokens, self.dim)
        return self._split_heads(keys), self._split_heads(values)

    def forward(self, x: Tensor, keys: Tensor, values: Tensor) -> Tensor:
        """Query side of the layer.

        Args:
            x (Tensor): (N, Pq, T, C) query tokens; Pq = 1 when the rows of all parts are still
                identical (first layer), else P. Broadcast against ``values``.
            keys (Tensor): (N, heads, L, C/heads) projected support keys of each query's set.
            values (Tensor): (N, P, heads, L, C/heads) projected support values.

        Returns:
            Tensor: (N, P, T, C) updated tokens.
        """
        num_objects, query_parts, num_tokens, dim = x.shape
        head_dim = dim // self.num_heads
        q = self._in_proj(_pointwise(self.query_conv, x), 0)
        q = q * head_dim**-0.5  # scaled before the product, as nn.MultiheadAttention does
        # all part rows of an object share the keys: one (Pq*T, L) score matrix per object and head
        q = q.view(num_objects, query_parts * num_tokens, self.num_heads, head_dim).transpose(1, 2)
        scores = torch.matmul(q, keys.transpose(-2, -1))  # (N, heads, Pq*T, L)
        probs = scores.softmax(dim=-1).unflatten(2, (query_parts, num_tokens)).transpose(1, 2)
        attn = torch.matmul(probs, values)  # (N, P, heads, T, d), broadcast over parts if Pq = 1
        attn = attn.transpose(2, 3).reshape(num_objects, values.shape[1], num_tokens, dim)
        attn = self.multihead_attn.out_proj(attn)
        x = x + self.ln1(attn)
        return x + self.mlp(self.ln2(x))
