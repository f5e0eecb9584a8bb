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
                                  ('shape_encoder.enc1.0.weight', 32 * 16, 64 * 16),
                                  ('decoder.dec1.0.weight', 64 * 16, 288 * 16)):
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
