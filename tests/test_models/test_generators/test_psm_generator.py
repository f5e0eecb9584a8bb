"""PSMGenerator: official key layout, injection variants, noise inputs, and a block vs a literal version."""
import copy

import pytest
import torch
import torch.nn.functional as F
from noise_halo import calibrate_batch_norms, receptive_halo

from mmipose.models.generators import PSMGenerator, PSMResBlock


def official_generator_keys(semantic_nc):
    """The reference *_G.pth keys without `partnet.model.*`, with shapes."""
    keys = {
        'fc.weight': (1024, 64 + semantic_nc, 3, 3),
        'fc.bias': (1024, ),
        'conv_img.weight': (3, 64, 3, 3),
        'conv_img.bias': (3, ),
        'conv_part.0.weight': (32, 288, 3, 3),
        'conv_part.0.bias': (32, ),
        'mlp.0.weight': (32, 32, 3, 3),
        'mlp.0.bias': (32, )
    }
    for i in range(6):
        keys[f'conv_nos.{i}.0.weight'] = (33 if i < 3 else 32, 32, 4, 4)
        keys[f'conv_nos.{i}.0.bias'] = (32, )
    chans = [1024, 1024, 1024, 512, 256, 128, 64]
    for i in range(6):
        fin, fout = chans[i], chans[i + 1]
        mid = min(fin, fout)
        p = f'body.{i}.'

        def sn(name, out, inp, k, bias=True):
            keys[p + name + '.weight_orig'] = (out, inp, k, k)
            keys[p + name + '.weight_u'] = (out, )
            keys[p + name + '.weight_v'] = (inp * k * k, )
            if bias:
                keys[p + name + '.bias'] = (out, )

        def bn(name, nc):
            keys[p + name + '.first_norm.running_mean'] = (nc, )
            keys[p + name + '.first_norm.running_var'] = (nc, )
            keys[p + name + '.first_norm.num_batches_tracked'] = ()

        def spade(name, nc):
            bn(name, nc)
            keys[p + name + '.mlp_shared.0.weight'] = (128, 64 + semantic_nc, 3, 3)
            keys[p + name + '.mlp_shared.0.bias'] = (128, )
            for g in ('mlp_gamma', 'mlp_beta'):
                keys[p + f'{name}.{g}.weight'] = (nc, 128, 3, 3)
                keys[p + f'{name}.{g}.bias'] = (nc, )

        sn('conv_0', mid, fin, 3)
        sn('conv_1', fout, mid, 3)
        sn('conv_p', fin, fin, 3)
        spade('norm_0', fin)
        spade('norm_1', mid)
        if fin != fout:
            sn('conv_s', fout, fin, 1, bias=False)
            spade('norm_s', fin)
        bn('norm_p', fin)
        for name in ('mlp_shared.0', 'mlp_shared_nos.0'):
            keys[p + f'norm_p.{name}.weight'] = (32, 32, 3, 3)
            keys[p + f'norm_p.{name}.bias'] = (32, )
        for name in ('mlp_gamma', 'mlp_beta', 'mlp_gamma_nos', 'mlp_beta_nos'):
            keys[p + f'norm_p.{name}.weight'] = (1, 32, 3, 3)
            keys[p + f'norm_p.{name}.bias'] = (1, )
    return keys


def test_state_dict_matches_official_generator_layout():
    gen = PSMGenerator(semantic_nc=35)
    expected = official_generator_keys(35)
    assert len(expected) == 424 - 86
    state = gen.state_dict()
    assert set(state) == set(expected)
    assert all(tuple(state[k].shape) == v for k, v in expected.items())


def _inputs(b=2, c=5, h=64, w=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    label = torch.randint(0, c, (b, 1, h, w), generator=g)
    onehot = torch.zeros(b, c, h, w).scatter_(1, label, 1.0)
    return onehot, torch.randn(b, 288, h, w, generator=g), torch.randn(b, 9, h, w, generator=g)


@pytest.mark.parametrize('mode', ['psm', 'spade', 'concat', 'none'])
def test_injection_variants_shapes_and_determinism(mode):
    torch.manual_seed(0)
    gen = PSMGenerator(semantic_nc=5, channels_g=2, spade_hidden_nc=8, part_injection=mode).eval()
    onehot, feats, logits = _inputs()
    z, z_part = torch.randn(2, 64), torch.randn(2, 31, 2, 4)
    out1 = gen(onehot, feats, logits, z=z, z_part=z_part)
    out2 = gen(onehot, feats, logits, z=z, z_part=z_part)
    assert out1.shape == (2, 3, 64, 128) and out1.abs().max() <= 1
    assert torch.equal(out1, out2)
    assert not torch.allclose(out1, gen(onehot, feats, logits, z=-z, z_part=z_part))
    if mode == 'psm':
        assert not torch.allclose(out1, gen(onehot, feats, logits, z=z, z_part=-z_part))
    if mode == 'none':
        assert torch.equal(out1, gen(onehot, None, None, z=z))
    else:
        assert not torch.allclose(out1, gen(onehot, feats * 3, logits, z=z, z_part=z_part))


def test_rng_order_part_noise_first():
    gen = PSMGenerator(semantic_nc=5, channels_g=2, spade_hidden_nc=8).eval()
    onehot, feats, logits = _inputs()
    torch.manual_seed(7)
    sampled = gen(onehot, feats, logits)
    torch.manual_seed(7)
    z_part = torch.randn(2, 31, 2, 4)
    z = torch.randn(2, 64)
    assert torch.equal(sampled, gen(onehot, feats, logits, z=z, z_part=z_part))


@pytest.mark.parametrize('mode', ['psm', 'none'])
@pytest.mark.parametrize('training', [False, True])
def test_vector_noise_equals_the_spatial_map_filled_with_it(mode, training):
    torch.manual_seed(0)
    gen = PSMGenerator(semantic_nc=5, channels_g=2, spade_hidden_nc=8, part_injection=mode).train(training)
    twin = copy.deepcopy(gen)  # train mode: spectral norm's power iteration updates u in place
    onehot, feats, logits = _inputs()
    z, z_part = torch.randn(2, 64), torch.randn(2, 31, 2, 4)
    filled = z[:, :, None, None].repeat(1, 1, 64, 128)  # materialised, not a broadcast view
    vector_out = gen(onehot, feats, logits, z=z, z_part=z_part)
    # equal up to float summation order: the vector takes conv3x3_with_constant_channels
    torch.testing.assert_close(vector_out, twin(onehot, feats, logits, z=filled, z_part=z_part), rtol=1e-5, atol=1e-5)


def test_spatial_noise_changes_the_output_only_near_where_it_changes():
    torch.manual_seed(0)
    gen = PSMGenerator(semantic_nc=5, channels_g=2, spade_hidden_nc=8)
    onehot, feats, logits = _inputs(b=1)
    calibrate_batch_norms(gen, onehot, feats, logits)
    z, z_part = torch.randn(1, 64, 1, 1).repeat(1, 1, 64, 128), torch.randn(1, 31, 2, 4)
    rows, cols = range(49, 57), range(113, 121)
    edited = z.clone()
    edited[:, :, 49:57, 113:121] = torch.randn(1, 64, 8, 8)
    with torch.no_grad():
        diff = (gen(onehot, feats, logits, z=z, z_part=z_part) -
                gen(onehot, feats, logits, z=edited, z_part=z_part)).abs().amax(1)[0]
    halo = receptive_halo(rows, cols)
    assert halo == 68  # the 8-pixel level samples row 56 / column 120; coarser levels miss the box
    assert diff[49:57, 113:121].min() > 0
    assert diff[:, :113 - halo].max() == 0
    assert diff[49:57, 113:121].mean() > 10 * diff[:, :113].mean()
    with pytest.raises(ValueError, match=r'z must be \(1, 64\) or a spatial map \(1, 64, 64, 128\)'):
        gen(onehot, feats, logits, z=z[..., :64], z_part=z_part)


def test_missing_part_inputs_and_bad_size():
    gen = PSMGenerator(semantic_nc=5, channels_g=2, spade_hidden_nc=8)
    onehot, feats, logits = _inputs()
    with pytest.raises(ValueError, match='part_features'):
        gen(onehot)
    with pytest.raises(ValueError, match='part_logits'):
        gen(onehot, feats)
    with pytest.raises(ValueError, match='divisible by 32'):
        gen(onehot[..., :48], feats[..., :48], logits[..., :48])


def _sn(conv):
    w = conv.weight_orig
    return w / torch.dot(conv.weight_u, w.reshape(w.shape[0], -1) @ conv.weight_v)


def _bn_eval(x, bn):
    return (x - bn.running_mean.view(1, -1, 1, 1)) / torch.sqrt(bn.running_var.view(1, -1, 1, 1) + 1e-5)


def _spade(x, seg, norm):
    s = F.interpolate(seg, size=x.shape[-2:], mode='nearest')
    a = F.relu(F.conv2d(s, norm.mlp_shared[0].weight, norm.mlp_shared[0].bias, padding=1))
    gamma = F.conv2d(a, norm.mlp_gamma.weight, norm.mlp_gamma.bias, padding=1)
    beta = F.conv2d(a, norm.mlp_beta.weight, norm.mlp_beta.bias, padding=1)
    return _bn_eval(x, norm.first_norm) * (1 + gamma) + beta


def _conv(x, conv, weight=None):
    weight = _sn(conv) if weight is None else weight
    return F.conv2d(x, weight, conv.bias, padding=weight.shape[-1] // 2)


def test_psm_block_matches_literal_implementation():
    torch.manual_seed(0)
    block = PSMResBlock(8, 4, label_nc=6, part_nc=4, spade_hidden_nc=5).eval()
    for name, buf in block.named_buffers():
        if name.endswith('running_mean'):
            buf.normal_()
        elif name.endswith('running_var'):
            buf.uniform_(0.5, 2)
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.1)
    x, seg = torch.randn(2, 8, 8, 8), torch.randn(2, 6, 16, 16)
    part, noise = torch.randn(2, 4, 16, 16), torch.randn(2, 4, 8, 8)
    mask = (torch.rand(2, 1, 16, 16) > 0.5).float()
    with torch.no_grad():
        out = block(x, seg, part, noise, mask)
        # literal: part modulation with 1-channel gamma/beta selected by the mask
        n = block.norm_p
        lrelu = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
        p_s = F.interpolate(part, size=(8, 8), mode='nearest')
        a = F.relu(F.conv2d(p_s, n.mlp_shared[0].weight, n.mlp_shared[0].bias, padding=1))
        a_n = F.relu(F.conv2d(noise, n.mlp_shared_nos[0].weight, n.mlp_shared_nos[0].bias, padding=1))
        m = F.interpolate(mask, size=(8, 8), mode='nearest')
        g = (
            _conv(a, n.mlp_gamma, n.mlp_gamma.weight) * m + _conv(a_n, n.mlp_gamma_nos, n.mlp_gamma_nos.weight) *
            (1 - m))
        bt = _conv(a, n.mlp_beta, n.mlp_beta.weight) * m + _conv(a_n, n.mlp_beta_nos, n.mlp_beta_nos.weight) * (1 - m)
        xp = _conv(lrelu(_bn_eval(x, n.first_norm) * (1 + g) + bt), block.conv_p)
        xs = F.conv2d(_spade(xp, seg, block.norm_s), _sn(block.conv_s))
        dx = _conv(lrelu(_spade(xp, seg, block.norm_0)), block.conv_0)
        dx = _conv(lrelu(_spade(dx, seg, block.norm_1)), block.conv_1)
    expected = xs + dx
    scale = expected.abs().max()
    assert scale > 0.1  # a meaningful comparison, not of near-zero outputs
    assert (out - expected).abs().max() <= 1e-5 * max(1.0, float(scale))


def test_psm_block_resizes_its_conditioning_maps_once(monkeypatch):
    """One nearest resize per map and block (seg, part features, mask), not one per norm; whole
    factor downsamplings are strided views (no ``F.interpolate`` copy of the full-size map)."""
    import mmipose.models.generators.normalization as normalization
    import mmipose.models.generators.psm_block as psm_block
    resized, interpolated = [], []
    real_resize, real_interpolate = psm_block.resize_nearest, F.interpolate

    def counting_resize(t, size):
        resized.append(tuple(t.shape))
        return real_resize(t, size)

    def counting_interpolate(t, *args, **kwargs):
        interpolated.append(tuple(t.shape))
        return real_interpolate(t, *args, **kwargs)

    monkeypatch.setattr(psm_block, 'resize_nearest', counting_resize)
    monkeypatch.setattr(normalization.F, 'interpolate', counting_interpolate)
    block = PSMResBlock(8, 4, label_nc=6, part_nc=4, spade_hidden_nc=5).eval()  # 4 norms
    x, seg = torch.randn(2, 8, 8, 8), torch.randn(2, 6, 16, 16)
    part, noise = torch.randn(2, 4, 16, 16), torch.randn(2, 4, 8, 8)
    mask = (torch.rand(2, 1, 16, 16) > 0.5).float()
    with torch.no_grad():
        block(x, seg, part, noise, mask)
    assert sorted(resized) == sorted([(2, 6, 16, 16), (2, 4, 16, 16), (2, 1, 16, 16)])
    assert interpolated == []


@pytest.mark.parametrize('in_size,out_size', [((16, 16), (8, 8)), ((64, 128), (2, 4)), ((12, 20), (4, 5)),
                                              ((10, 16), (4, 8)), ((8, 8), (16, 16)), ((7, 9), (7, 9))])
def test_resize_nearest_matches_interpolate_values_and_gradients(in_size, out_size):
    """Same values and input gradients as ``F.interpolate(mode='nearest')``, whether it takes the
    strided view (whole factors), the identity or the interpolation path."""
    from mmipose.models.generators.normalization import resize_nearest
    t = torch.randn(2, 3, *in_size, requires_grad=True)
    weight = torch.randn(2, 3, *out_size)
    ours = resize_nearest(t, out_size)
    (grad_ours, ) = torch.autograd.grad((ours * weight).sum(), t)
    expected = F.interpolate(t, size=out_size, mode='nearest')
    (grad_expected, ) = torch.autograd.grad((expected * weight).sum(), t)
    assert torch.equal(ours, expected)
    assert torch.equal(grad_ours, grad_expected)


def _reference_spade(norm, x, cond):
    """SPADE written out: param-free BN (running stats, eval) modulated by convs of ``cond``."""
    bn = F.batch_norm(x, norm.first_norm.running_mean, norm.first_norm.running_var, training=False)
    cond = F.interpolate(cond, size=x.shape[-2:], mode='nearest')
    actv = F.relu(F.conv2d(cond, norm.mlp_shared[0].weight, norm.mlp_shared[0].bias, padding=1))
    gamma = F.conv2d(actv, norm.mlp_gamma.weight, norm.mlp_gamma.bias, padding=1)
    beta = F.conv2d(actv, norm.mlp_beta.weight, norm.mlp_beta.bias, padding=1)
    return bn * (1 + gamma) + beta


def test_spade_injection_is_the_reference_spade_concat_in_the_part_norm_slot():
    """Reference block with ``norm_p = SPADEConcat(opt, fin, z + C, 32)``:
    x = conv_p(LReLU(SPADE(x, cat[seg, part]))), then the OASIS block with SPADE on seg alone."""
    torch.manual_seed(0)
    gen = PSMGenerator(semantic_nc=5, channels_g=2, spade_hidden_nc=8, part_injection='spade').eval()
    with torch.no_grad():  # non-trivial BN statistics
        for block in gen.body:
            for m in block.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
    block = gen.body[3]  # fin 16 -> fout 8: learned shortcut
    assert block.norm_p.mlp_shared[0].in_channels == 64 + 5 + 32
    assert block.norm_0.mlp_shared[0].in_channels == 64 + 5
    x = torch.randn(2, block.conv_0.in_channels, 8, 16)
    seg, part = torch.randn(2, 69, 64, 128), torch.randn(2, 32, 64, 128)

    def lrelu(t):
        return F.leaky_relu(t, 0.2)

    with torch.no_grad():
        xp = block.conv_p(lrelu(_reference_spade(block.norm_p, x, torch.cat([seg, part], 1))))
        x_s = block.conv_s(_reference_spade(block.norm_s, xp, seg))
        dx = block.conv_0(lrelu(_reference_spade(block.norm_0, xp, seg)))
        expected = x_s + block.conv_1(lrelu(_reference_spade(block.norm_1, dx, seg)))
        torch.testing.assert_close(block(x, seg, part), expected, rtol=1e-5, atol=1e-5)

        # the same block given the noise apart, as the generator calls it: seg = one-hot, z vector
        onehot_small, z = seg[:, 64:], torch.randn(2, 64)
        seg_with_z = torch.cat([z[:, :, None, None].expand(2, 64, 64, 128), onehot_small], 1)
        # float32 summation order only (the float64 test below is tight)
        torch.testing.assert_close(block(x, onehot_small, part, z=z), block(x, seg_with_z, part), rtol=1e-4, atol=1e-4)

        # the generator hands every block the one-hot map as seg, z apart, the conv_part features as part
        onehot, feats, logits = _inputs()
        seen = []
        hooks = [
            b.register_forward_pre_hook(
                lambda m, args, kwargs: seen.append((args[1], args[2], kwargs['z'])), with_kwargs=True)
            for b in gen.body
        ]
        gen(onehot, feats, logits, z=z)
        for h in hooks:
            h.remove()
        assert len(seen) == len(gen.body)
        for seg_in, part_in, z_in in seen:
            assert torch.equal(seg_in, onehot)
            assert torch.equal(z_in, z)
            torch.testing.assert_close(part_in, gen.conv_part(feats))


def test_syncbn_is_asked_for_only_with_the_runners_sync_bn():
    """Only norm_type='bn'; errors name the config key for synchronized BN, and MMEngine's
    sync_bn conversion turns the generator's parameter-free BNs into SyncBatchNorm."""
    from mmengine.model import convert_sync_batchnorm

    from mmipose.models.generators.normalization import parameter_free_norm
    with pytest.raises(ValueError, match="sync_bn = 'torch'"):
        parameter_free_norm(4, 'syncbn')
    with pytest.raises(ValueError, match="norm_type must be 'bn', got 'gn'"):
        parameter_free_norm(4, 'gn')
    generator = PSMGenerator(semantic_nc=3, channels_g=1, spade_hidden_nc=4)
    num_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in generator.modules())
    converted = convert_sync_batchnorm(generator)
    assert num_bn > 0
    assert sum(isinstance(m, torch.nn.SyncBatchNorm) for m in converted.modules()) == num_bn
    assert set(converted.state_dict()) == set(PSMGenerator(semantic_nc=3, channels_g=1, spade_hidden_nc=4).state_dict())


@pytest.mark.parametrize('size', [(1, 1), (1, 5), (2, 2), (3, 3), (5, 2), (8, 16)])
def test_conv_with_constant_channels_equals_the_conv_of_the_broadcast_map(size):
    """Values and gradients (weight, bias, z, the other channels) of the plain convolution of
    ``cat([z broadcast, rest])``, for maps smaller and larger than the 3x3 kernel."""
    from mmipose.models.generators.normalization import conv3x3_with_constant_channels
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(6 + 3, 5, 3, padding=1).double()
    z = torch.randn(2, 6, dtype=torch.float64, requires_grad=True)
    rest = torch.randn(2, 3, *size, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(2, 5, *size, dtype=torch.float64)
    ours = conv3x3_with_constant_channels(conv, z, rest)
    grads_ours = torch.autograd.grad((ours * weight).sum(), [conv.weight, conv.bias, z, rest])
    full = torch.cat([z[:, :, None, None].expand(2, 6, *size), rest], 1)
    expected = F.conv2d(full, conv.weight, conv.bias, padding=1)
    grads_expected = torch.autograd.grad((expected * weight).sum(), [conv.weight, conv.bias, z, rest])
    torch.testing.assert_close(ours, expected, rtol=1e-12, atol=1e-12)
    for got, want in zip(grads_ours, grads_expected):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_conv_with_constant_channels_rejects_other_convolutions_and_channel_counts():
    from mmipose.models.generators.normalization import conv3x3_with_constant_channels
    z, rest = torch.randn(1, 4), torch.randn(1, 2, 8, 8)
    with pytest.raises(ValueError, match='3x3 stride-1 zero-padded'):
        conv3x3_with_constant_channels(torch.nn.Conv2d(6, 3, 1), z, rest)
    with pytest.raises(ValueError, match='3x3 stride-1 zero-padded'):
        conv3x3_with_constant_channels(torch.nn.Conv2d(6, 3, 3, padding=1, padding_mode='reflect'), z, rest)
    with pytest.raises(ValueError, match='4 constant \\+ 2 other channels != the convolution\'s 7'):
        conv3x3_with_constant_channels(torch.nn.Conv2d(7, 3, 3, padding=1), z, rest)


@pytest.mark.parametrize('part_norm', ['psm', 'spade', None])
@pytest.mark.parametrize('spatial', [False, True])
def test_block_with_noise_apart_equals_the_block_on_the_concatenated_map(part_norm, spatial):
    """block(x, one-hot, z=...) == block(x, cat([z map, one-hot])) in values and weight gradients,
    for a noise vector (cheap path) and a spatial noise map (resized once per block)."""
    torch.manual_seed(0)
    block = PSMResBlock(8, 4, label_nc=6 + 3, part_nc=4, part_norm=part_norm, spade_hidden_nc=5).double()
    twin = copy.deepcopy(block)
    x, onehot = torch.randn(2, 8, 8, 8).double(), torch.randn(2, 3, 16, 16).double()
    part, noise = torch.randn(2, 4, 16, 16).double(), torch.randn(2, 4, 8, 8).double()
    mask = (torch.rand(2, 1, 16, 16) > 0.5).double()
    z = torch.randn(2, 6, 16, 16).double() if spatial else torch.randn(2, 6).double()
    z_map = z if spatial else z[:, :, None, None].expand(2, 6, 16, 16)
    ours = block(x, onehot, part, noise, mask, z=z)
    expected = twin(x, torch.cat([z_map, onehot], 1), part, noise, mask)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-10)
    ours.square().sum().backward()
    expected.square().sum().backward()
    for (name, p), q in zip(block.named_parameters(), twin.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-9, atol=1e-9, msg=name)


@pytest.mark.parametrize('out_channels', [1, 8])
def test_gamma_and_beta_in_one_convolution_equal_the_two_convolutions(out_channels):
    from mmipose.models.generators.normalization import gamma_and_beta
    torch.manual_seed(0)
    conv_gamma = torch.nn.Conv2d(6, out_channels, 3, padding=1).double()
    conv_beta = torch.nn.Conv2d(6, out_channels, 3, padding=1).double()
    actv = torch.randn(2, 6, 8, 16, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(2, 2 * out_channels, 8, 16, dtype=torch.float64)
    params = [actv, conv_gamma.weight, conv_gamma.bias, conv_beta.weight, conv_beta.bias]
    gamma, beta = gamma_and_beta(actv, conv_gamma, conv_beta)
    grads = torch.autograd.grad((torch.cat([gamma, beta], 1) * weights).sum(), params)
    expected_gamma, expected_beta = conv_gamma(actv), conv_beta(actv)
    expected_grads = torch.autograd.grad((torch.cat([expected_gamma, expected_beta], 1) * weights).sum(), params)
    torch.testing.assert_close(gamma, expected_gamma, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(beta, expected_beta, rtol=1e-12, atol=1e-12)
    for got, want in zip(grads, expected_grads):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
