"""PartNet initialisation follows the reference (its weight-init function)."""
import math

import torch

from mmipose.models.partnet import PartNet


def test_reference_initialisation():
    torch.manual_seed(0)
    net = PartNet()
    params = dict(net.named_parameters())
    # xavier_normal(gain=0.02): std = 0.02 * sqrt(2 / (fan_in + fan_out))
    for name, fan_in, fan_out in (('catt0.mlp.0.weight', 288, 1152), ('catt1.multihead_attn.out_proj.weight', 288, 288),
                                  ('shape_encoder.enc1.0.weight', 32 * 16, 64 * 16), ('decoder.dec1.0.weight', 64 * 16,
                                                                                      288 * 16)):
        expected = 0.02 * math.sqrt(2 / (fan_in + fan_out))
        assert abs(params[name].std().item() / expected - 1) < 0.05, name
    # MHA input projection keeps xavier_uniform (gain 1)
    bound = math.sqrt(6 / (288 + 864))
    in_proj = params['catt2.multihead_attn.in_proj_weight']
    assert in_proj.abs().max() <= bound and in_proj.abs().max() > 0.9 * bound
    for name, p in params.items():
        if name.endswith('bias'):
            expected = torch.zeros_like(p)
        elif '.ln' in name:
            expected = torch.ones_like(p)
        else:
            continue
        assert torch.equal(p, expected), name
    assert not hasattr(net, 'init_weights')  # an MMEngine runner must not re-initialise loaded weights


def test_narrow_widths_give_narrow_features_and_the_defaults_are_the_reference():
    """encoder/decoder widths are options (the toy demo halves them); the defaults build the
    reference layout (5.13 M parameters, 32 feature channels per part row)."""
    from mmipose.models.partnet import DECODER_CHANNELS, ENCODER_CHANNELS
    reference = PartNet()
    assert reference.decoder.out_channels == DECODER_CHANNELS[-1] == 32
    assert reference.shape_encoder.out_channels == 3 * ENCODER_CHANNELS[-1] == 288
    narrow = PartNet(encoder_channels=(16, 32, 32, 48), decoder_channels=(32, 32, 16))
    assert narrow.shape_encoder.enc0[0].out_channels == 16 and narrow.mask_encoder.enc3[0].out_channels == 48
    assert sum(p.numel() for p in narrow.parameters()) < sum(p.numel() for p in reference.parameters()) / 3
    torch.manual_seed(0)
    supports = torch.zeros(1, 3, 9, 64, 64)
    supports[:, :, 0] = 1
    supports[:, :, 0, 16:48, 16:48] = 0
    supports[:, :, 1, 16:32, 16:48] = 1
    supports[:, :, 2, 32:48, 16:48] = 1
    encoding = narrow.encode_supports(supports)
    query = torch.zeros(2, 1, 64, 64)
    query[:, :, 20:44, 18:46] = 1
    features, logits = narrow(query, torch.zeros(2, dtype=torch.long), encoding)
    assert features.shape == (2, 9 * 16, 64, 64) and logits.shape == (2, 9, 64, 64)
    assert torch.isfinite(features).all() and torch.isfinite(logits).all()
    # the logits are conv_img of each part row's features (PartNet feeds it channels-last; the
    # result must not depend on that layout), and gradients reach conv_img as through a plain conv
    rows = features.reshape(2 * 9, 16, 64, 64)
    plain = torch.nn.functional.conv2d(rows, narrow.conv_img.weight, narrow.conv_img.bias, padding=2)
    assert torch.allclose(logits, plain.view(2, 9, 64, 64), atol=1e-6, rtol=1e-5)
    (grad_ours, ) = torch.autograd.grad(logits.square().sum(), narrow.conv_img.weight)
    (grad_plain, ) = torch.autograd.grad(plain.square().sum(), narrow.conv_img.weight)
    assert torch.allclose(grad_ours, grad_plain, atol=1e-6, rtol=1e-4)


def test_bad_widths_are_refused_with_the_widths_named():
    import pytest
    with pytest.raises(ValueError, match=r'4 widths \(enc0..enc3\), got \(16, 32\)'):
        PartNet(encoder_channels=(16, 32))
    with pytest.raises(ValueError, match=r'3 widths \(dec1..dec3\), got \(32,\)'):
        PartNet(decoder_channels=(32, ))
    with pytest.raises(ValueError, match='num_heads 5 must divide the token width 3 x encoder_channels'):
        PartNet(num_heads=5)
