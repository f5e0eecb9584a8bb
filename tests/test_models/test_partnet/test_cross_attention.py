"""PartCrossAttention (support side precomputed) == the reference layer built on nn.MultiheadAttention."""
import pytest
import torch

from mmipose.models.partnet import PartCrossAttention


def reference_layer(layer, query, shape_feats, mask_feats):
    """The reference's CrossAttentionLayer forward with torch's own MHA call (seq-first).

    query (B, C, h, w); shape_feats / mask_feats: lists over shots of (B, C, h, w).
    """
    b, c, h, w = query.shape

    def seq(x):
        return x.view(b, c, h * w).permute(2, 0, 1)

    keys = torch.cat([seq(layer.key_conv(s)) for s in shape_feats])
    values = torch.cat([seq(layer.value_conv(m)) for m in mask_feats])
    attended = layer.multihead_attn(seq(layer.query_conv(query)), keys, values)[0]
    x = seq(query) + layer.ln1(attended)
    x = x + layer.mlp(layer.ln2(x))
    return x.view(h, w, b, c).permute(2, 3, 0, 1)


@pytest.mark.parametrize('num_heads', [1, 3])
def test_matches_multihead_attention_module(num_heads):
    torch.manual_seed(num_heads)
    dim, shots, parts = 24, 2, 3
    layer = PartCrossAttention(dim, num_heads).eval()
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_(0, 0.3)
        query = torch.randn(2, dim, 4, 4)  # two objects
        shapes = torch.randn(2, shots, dim, 4, 4)  # their supports
        masks = torch.randn(2, shots, parts, dim, 4, 4)
        keys, values = layer.project_supports(shapes.flatten(3).transpose(-1, -2), masks.flatten(4).transpose(-1, -2))
        tokens = query.flatten(2).transpose(1, 2)[:, None]  # (N, 1, T, C)
        out = layer(tokens, keys, values)  # (N, P, T, C)
        for n in range(2):
            for p in range(parts):
                ref = reference_layer(layer, query[n:n + 1], list(shapes[n, :, None]), list(masks[n, :, p, None]))
                torch.testing.assert_close(out[n, p], ref[0].flatten(1).t(), atol=1e-5, rtol=1e-5)
