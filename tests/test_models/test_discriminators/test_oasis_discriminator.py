"""OASISDiscriminator: official key layout, shapes, and blocks against a literal re-implementation."""
import pytest
import torch
import torch.nn.functional as F

from mmipose.models.discriminators import OASISDiscriminator, OASISResBlockD


def official_d_keys():
    """The reference *_D.pth key set, written out independently."""
    keys = []

    def sn(prefix, bias=True):
        keys.extend(f'{prefix}.{k}' for k in (['bias'] if bias else []) + ['weight_orig', 'weight_u', 'weight_v'])

    for i in range(6):
        sn(f'body_down.{i}.conv1.{0 if i == 0 else 1}')
        sn(f'body_down.{i}.conv2.1')
        if i in (0, 2, 4):
            sn(f'body_down.{i}.conv_s')
    for i in range(6):
        sn(f'body_up.{i}.conv1.2')
        sn(f'body_up.{i}.conv2.1')
        if i >= 1:
            sn(f'body_up.{i}.conv_s')
    keys += ['layer_up_last.weight', 'layer_up_last.bias', 'conv_g.weight', 'conv_g.bias']
    return keys


def test_state_dict_matches_official_layout():
    disc = OASISDiscriminator(semantic_nc=35)
    state = disc.state_dict()
    assert len(official_d_keys()) == 132
    assert set(state) == set(official_d_keys())
    assert state['layer_up_last.weight'].shape == (36, 64, 1, 1)
    assert state['conv_g.weight'].shape == (1, 256, 3, 3)
    assert state['body_up.1.conv1.2.weight_orig'].shape == (256, 1024, 3, 3)
    assert state['body_up.5.conv1.2.weight_orig'].shape == (64, 256, 3, 3)
    assert state['body_down.0.conv_s.weight_orig'].shape == (128, 3, 1, 1)


@pytest.mark.parametrize('size', [(64, 64), (64, 128)])
def test_output_shapes(size):
    disc = OASISDiscriminator(semantic_nc=5, base_channels=8)
    seg, glob = disc(torch.randn(2, 3, *size))
    assert seg.shape == (2, 6, *size)
    assert glob.shape == (2, 1, size[0] // 16, size[1] // 16)
    seg2, none = OASISDiscriminator(semantic_nc=5, base_channels=8, use_global_head=False)(torch.randn(1, 3, *size))
    assert none is None and seg2.shape == (1, 6, *size)


def test_bad_size_is_rejected():
    with pytest.raises(ValueError, match='divisible by 64'):
        OASISDiscriminator(semantic_nc=5, base_channels=8)(torch.randn(1, 3, 48, 64))


def _sn_weight(conv):
    # eval mode: W / sigma with sigma = u^T W v from the stored vectors (no power iteration)
    w = conv.weight_orig
    sigma = torch.dot(conv.weight_u, w.reshape(w.shape[0], -1) @ conv.weight_v)
    return w / sigma


def _literal_block(block, x, up_or_down, first):
    conv1 = block.conv1[-1]
    conv2 = block.conv2[-1]
    lrelu = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
    h = x if first else lrelu(x)
    if up_or_down > 0:
        h = F.interpolate(h, scale_factor=2, mode='nearest')
    h = F.conv2d(h, _sn_weight(conv1), conv1.bias, padding=1)
    h = F.conv2d(lrelu(h), _sn_weight(conv2), conv2.bias, padding=1)
    if up_or_down < 0:
        h = F.avg_pool2d(h, 2)
    s = x
    if first:
        s = F.avg_pool2d(s, 2)
        s = F.conv2d(s, _sn_weight(block.conv_s), block.conv_s.bias)
    else:
        if up_or_down > 0:
            s = F.interpolate(s, scale_factor=2, mode='nearest')
        if block.learned_shortcut:
            s = F.conv2d(s, _sn_weight(block.conv_s), block.conv_s.bias)
        if up_or_down < 0:
            s = F.avg_pool2d(s, 2)
    return s + h


@pytest.mark.parametrize('fin,fout,up_or_down,first', [(3, 8, -1, True), (8, 16, -1, False), (16, 16, -1, False),
                                                       (16, 8, 1, False), (8, 8, 1, False)])
def test_block_matches_literal_implementation(fin, fout, up_or_down, first):
    torch.manual_seed(0)
    block = OASISResBlockD(fin, fout, up_or_down, first).eval()
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.2)
    x = torch.randn(2, fin, 8, 8)
    with torch.no_grad():
        assert torch.allclose(block(x), _literal_block(block, x, up_or_down, first), atol=1e-5)
