"""PartNet (batched, cached supports) == a plain per-sample, per-part transcription of the reference.

The reference below is written from a description of the authors' PartNet only: it loops over objects and
part channels, builds the 5/6-channel rows explicitly, runs both encoders on every support row, does
attention as softmax(q k^T / sqrt(d)) v with the MHA weights, and reads every weight by its official
checkpoint key. It shares no code with mmipose.models.partnet.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmipose.models.partnet import PartNet, SupportBank

NUM_PARTS = 9


# ------------------------------------------------------------------------------------------------
# independent reference
def _conv_block(sd, name, x, stride, padding):
    x = F.conv2d(x, sd[f'{name}.0.weight'], sd[f'{name}.0.bias'], stride=stride, padding=padding)
    return F.leaky_relu(F.instance_norm(x, eps=1e-5), 0.2)


def _encoder(sd, prefix, x):
    x = _conv_block(sd, f'{prefix}.enc0', x, 1, 3)
    for i in (1, 2, 3):
        x = _conv_block(sd, f'{prefix}.enc{i}', x, 2, 1)
    ms0 = _conv_block(sd, f'{prefix}.ms_enc0', x, 2, 1)
    ms1 = _conv_block(sd, f'{prefix}.ms_enc1', ms0, 2, 1)
    up = [F.interpolate(m, size=x.shape[2:], mode='bilinear', align_corners=False) for m in (ms0, ms1)]
    return torch.cat([x] + up, dim=1)


def _attention_layer(sd, prefix, query, supports):
    """query (1, C, 8, 8); supports: list of (shape feature, mask feature), each (1, C, 8, 8)."""
    dim = query.shape[1]

    def tokens(x):  # (1, C, h, w) -> (h*w, C)
        return x.reshape(dim, -1).t()

    def conv1x1(x, name):
        return F.conv2d(x, sd[f'{prefix}.{name}.0.weight'], sd[f'{prefix}.{name}.0.bias'])

    q = tokens(conv1x1(query, 'query_conv'))
    k = torch.cat([tokens(conv1x1(s, 'key_conv')) for s, _ in supports])
    v = torch.cat([tokens(conv1x1(m, 'value_conv')) for _, m in supports])
    w_in, b_in = sd[f'{prefix}.multihead_attn.in_proj_weight'], sd[f'{prefix}.multihead_attn.in_proj_bias']
    q = q @ w_in[:dim].t() + b_in[:dim]
    k = k @ w_in[dim:2 * dim].t() + b_in[dim:2 * dim]
    v = v @ w_in[2 * dim:].t() + b_in[2 * dim:]
    weights = torch.softmax(q @ k.t() / math.sqrt(dim), dim=-1)
    attended = (weights @ v) @ sd[f'{prefix}.multihead_attn.out_proj.weight'].t() \
        + sd[f'{prefix}.multihead_attn.out_proj.bias']
    x = tokens(query) + F.layer_norm(attended, (dim, ), sd[f'{prefix}.ln1.weight'], sd[f'{prefix}.ln1.bias'])
    h = F.layer_norm(x, (dim, ), sd[f'{prefix}.ln2.weight'], sd[f'{prefix}.ln2.bias'])
    h = h @ sd[f'{prefix}.mlp.0.weight'].t() + sd[f'{prefix}.mlp.0.bias']
    h = h * torch.sigmoid(1.702 * h)
    x = x + h @ sd[f'{prefix}.mlp.2.weight'].t() + sd[f'{prefix}.mlp.2.bias']
    return x.t().reshape(1, dim, *query.shape[2:])


def _decoder(sd, x):
    for i in (1, 2, 3):
        x = F.conv_transpose2d(x, sd[f'decoder.dec{i}.0.weight'], sd[f'decoder.dec{i}.0.bias'], stride=2, padding=1)
        x = F.relu(F.instance_norm(x, eps=1e-5))
    return x


def reference_partnet(sd, masks, support_maps_per_object):
    """masks (N, 64, 64) {0,1}; support_maps_per_object: list of (k, 9, 64, 64) one-hot."""
    size = masks.shape[-1]
    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing='ij')
    features, logits = [], []
    for mask, supports in zip(masks, support_maps_per_object):
        object_features, object_logits = [], []
        for part in range(NUM_PARTS):
            query_row = torch.stack([x, y, mask, mask, mask])[None]
            encoded = []
            for support in supports:
                shape = (support.argmax(0) > 0).float()
                row = torch.stack([x, y, shape, shape, shape, support[part]])[None]
                encoded.append((_encoder(sd, 'shape_encoder', row[:, :5]), _encoder(sd, 'mask_encoder', row[:, 5:])))
            feature = _encoder(sd, 'shape_encoder', query_row)
            for layer in range(3):
                feature = _attention_layer(sd, f'catt{layer}', feature, encoded)
            decoded = _decoder(sd, feature)
            object_features.append(decoded[0])
            object_logits.append(F.conv2d(decoded, sd['conv_img.weight'], sd['conv_img.bias'], padding=2)[0, 0])
        features.append(torch.cat(object_features))
        logits.append(torch.stack(object_logits))
    return torch.stack(features), torch.stack(logits)


# ------------------------------------------------------------------------------------------------
def randomise(net, seed=0):
    """Weights of order one (the reference init, gain 0.02, makes outputs nearly constant)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel() if 'decoder' not in name else p.shape[0] * p[0, 0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
            elif name.startswith('catt') and '.ln' in name and name.endswith('weight'):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
    return net


def random_part_maps(gen, count, size=64):
    """Blocky random part-index maps with background borders, (count, size, size) int64."""
    coarse = torch.randint(0, NUM_PARTS, (count, 1, 8, 8), generator=gen).float()
    maps = F.interpolate(coarse, (size, size), mode='nearest')[:, 0].long()
    maps[:, :6] = 0
    maps[:, :, -5:] = 0
    return maps


def random_masks(gen, count, size=64):
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing='ij')
    centre = torch.randint(20, 44, (count, 2), generator=gen)
    radius = torch.randint(8, 20, (count, 2), generator=gen)
    dy = (yy - centre[:, :1, None]) / radius[:, :1, None]
    dx = (xx - centre[:, 1:, None]) / radius[:, 1:, None]
    inside = dy**2 + dx**2 <= 1
    return inside.float()


@pytest.mark.parametrize('shots', [1, 3, 4])
def test_partnet_matches_reference_with_cached_bank(shots):
    gen = torch.Generator().manual_seed(shots)
    net = randomise(PartNet().eval(), seed=shots)
    categories = [7, 24]
    bank = SupportBank.from_arrays({c: random_part_maps(gen, shots).numpy() for c in categories})
    object_categories = torch.tensor([24, 7])
    masks = random_masks(gen, 2)
    with torch.no_grad():
        features, logits = net(masks[:, None], bank.index_of(object_categories), bank.encoding(net))
        sd = {k: v.clone() for k, v in net.state_dict().items()}
        rows = [categories.index(c) for c in object_categories.tolist()]
        ref_features, ref_logits = reference_partnet(sd, masks, [bank.supports[r] for r in rows])
    assert features.shape == (2, 288, 64, 64) and logits.shape == (2, 9, 64, 64)
    assert logits.std() > 0.1, 'random weights should give non-trivial logits'
    torch.testing.assert_close(logits, ref_logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(features, ref_features, atol=1e-5, rtol=1e-5)


def test_part_rows_differ_and_layout_is_part_major():
    gen = torch.Generator().manual_seed(5)
    net = randomise(PartNet().eval(), seed=5)
    bank = SupportBank.from_arrays({3: random_part_maps(gen, 2).numpy()})
    with torch.no_grad():
        features, logits = net(random_masks(gen, 1)[:, None], bank.index_of([3]), bank.encoding(net))
        # channel block p of the features, through conv_img, gives logit p
        by_part = F.conv2d(features.view(9, 32, 64, 64), net.conv_img.weight, net.conv_img.bias, padding=2)
    torch.testing.assert_close(by_part[:, 0], logits[0], atol=1e-5, rtol=1e-5)
    assert (logits[0, 1] - logits[0, 2]).abs().max() > 1e-3


@pytest.mark.parametrize('pixels', [0, 1])
def test_empty_and_single_pixel_queries_are_finite(pixels):
    gen = torch.Generator().manual_seed(1)
    net = randomise(PartNet().eval())
    maps = random_part_maps(gen, 3)
    maps[1] = 0  # an empty support too
    bank = SupportBank.from_arrays({26: maps.numpy()})
    query = torch.zeros(2, 1, 64, 64)
    if pixels:
        query[:, 0, 30, 41] = 1
    with torch.no_grad():
        features, logits = net(query, bank.index_of([26, 26]), bank.encoding(net))
    assert torch.isfinite(features).all() and torch.isfinite(logits).all()


def test_no_objects_gives_empty_outputs():
    net = PartNet().eval()
    bank = SupportBank.from_arrays({26: np.zeros((3, 64, 64), np.int64)})
    features, logits = net(
        torch.zeros(0, 1, 64, 64), bank.index_of(torch.zeros(0, dtype=torch.long)), bank.encoding(net))
    assert features.shape == (0, 288, 64, 64) and logits.shape == (0, 9, 64, 64)


def test_training_path_is_differentiable():
    """PartNetModel's use: per-sample supports (S = N), support_index = arange(N)."""
    gen = torch.Generator().manual_seed(2)
    net = PartNet().train()
    maps = F.one_hot(random_part_maps(gen, 2 * 3), NUM_PARTS).permute(0, 3, 1, 2).float().view(2, 3, 9, 64, 64)
    encoding = net.encode_supports(maps)
    features, logits = net(random_masks(gen, 2)[:, None], torch.arange(2), encoding)
    logits.logsumexp(1).mean().backward()
    for name in ('shape_encoder.enc0.0.weight', 'mask_encoder.enc0.0.weight', 'catt0.key_conv.0.weight',
                 'catt2.value_conv.0.weight', 'catt1.multihead_attn.in_proj_weight', 'conv_img.weight'):
        grad = dict(net.named_parameters())[name].grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_explicit_shapes_override_argmax():
    """Permuted part channels with the silhouette computed before permuting (reference training)."""
    gen = torch.Generator().manual_seed(4)
    net = randomise(PartNet().eval())
    maps = F.one_hot(random_part_maps(gen, 2), NUM_PARTS).permute(0, 3, 1, 2).float()[None]
    shapes = (maps.argmax(2, keepdim=True) > 0).float()
    perm = torch.randperm(NUM_PARTS, generator=gen)
    with torch.no_grad():
        plain = net.encode_supports(maps[:, :, perm], shapes)
        direct = net.encode_supports(maps)
    # keys depend only on the silhouette: identical when the shapes are passed explicitly
    torch.testing.assert_close(plain.keys[0], direct.keys[0])
    # values follow the permutation of the part channels
    torch.testing.assert_close(plain.values[0], direct.values[0][:, perm])


def test_bad_shapes_raise_clear_errors():
    net = PartNet().eval()
    with pytest.raises(ValueError, match=r'\(S, k, 9, H, W\)'):
        net.encode_supports(torch.zeros(2, 3, 8, 64, 64))
    with pytest.raises(ValueError, match=r'multiples of 32 .* got 32x32'):
        net.encode_supports(torch.zeros(1, 1, 9, 32, 32))
    with torch.no_grad():
        encoding = net.encode_supports(torch.zeros(1, 1, 9, 64, 64))
        with pytest.raises(ValueError, match=r'\(N, 1, 64, 64\)'):
            net(torch.zeros(2, 1, 32, 32), torch.zeros(2, dtype=torch.long), encoding)
        with pytest.raises(ValueError, match=r'support_index must be \(2,\)'):
            net(torch.zeros(2, 1, 64, 64), torch.zeros(3, dtype=torch.long), encoding)
