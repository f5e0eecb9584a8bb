"""Official iPOSE generator / EMA / discriminator checkpoints -> one IPOSE state dict.

The official key layouts are written out here by hand, with the
documented shapes; widths are parameters so the same layout can be checked at tiny widths.
"""
import os.path as osp

import pytest
import torch

from mmipose.utils import convert_official_checkpoint
from mmipose.utils.official_checkpoint import (CheckpointConversionError, convert_discriminator_state_dict,
                                               convert_generator_state_dict, convert_ipose_checkpoints, read_checkpoint)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _partnet_shapes():
    from test_convert_partnet import official_partnet_shapes
    return official_partnet_shapes()


def _sn_conv(shapes, name, cin, cout, k, bias=True):
    shapes[f'{name}.weight_orig'] = (cout, cin, k, k)
    shapes[f'{name}.weight_u'] = (cout, )
    shapes[f'{name}.weight_v'] = (cin * k * k, )
    if bias:
        shapes[f'{name}.bias'] = (cout, )


def official_generator_shapes(semantic_nc=35, channels_g=64, z_dim=64, with_partnet=True):
    """The 424 tensors of ``*_G.pth`` / ``*_EMA.pth`` (338 generator + 86 PartNet)."""
    ch = [16 * channels_g] * 3 + [8 * channels_g, 4 * channels_g, 2 * channels_g, channels_g]
    seg = z_dim + semantic_nc
    shapes = {}
    for i in range(6):
        fin, fout = ch[i], ch[i + 1]
        mid = min(fin, fout)
        p = f'body.{i}.'
        _sn_conv(shapes, p + 'conv_0', fin, mid, 3)
        _sn_conv(shapes, p + 'conv_1', mid, fout, 3)
        _sn_conv(shapes, p + 'conv_p', fin, fin, 3)
        norms = [('norm_0', fin), ('norm_1', mid)]
        if fin != fout:
            _sn_conv(shapes, p + 'conv_s', fin, fout, 1, bias=False)
            norms.append(('norm_s', fin))
        for norm, nc in norms + [('norm_p', fin)]:
            shapes[p + f'{norm}.first_norm.running_mean'] = (nc, )
            shapes[p + f'{norm}.first_norm.running_var'] = (nc, )
            shapes[p + f'{norm}.first_norm.num_batches_tracked'] = ()
        for norm, nc in norms:
            shapes[p + f'{norm}.mlp_shared.0.weight'] = (128, seg, 3, 3)
            shapes[p + f'{norm}.mlp_shared.0.bias'] = (128, )
            for head in ('mlp_gamma', 'mlp_beta'):
                shapes[p + f'{norm}.{head}.weight'] = (nc, 128, 3, 3)
                shapes[p + f'{norm}.{head}.bias'] = (nc, )
        for suffix in ('', '_nos'):
            shapes[p + f'norm_p.mlp_shared{suffix}.0.weight'] = (32, 32, 3, 3)
            shapes[p + f'norm_p.mlp_shared{suffix}.0.bias'] = (32, )
            for head in ('mlp_gamma', 'mlp_beta'):
                shapes[p + f'norm_p.{head}{suffix}.weight'] = (1, 32, 3, 3)
                shapes[p + f'norm_p.{head}{suffix}.bias'] = (1, )
    shapes['conv_img.weight'] = (3, channels_g, 3, 3)
    shapes['conv_img.bias'] = (3, )
    shapes['conv_part.0.weight'] = (32, 288, 3, 3)
    shapes['conv_part.0.bias'] = (32, )
    for i in range(6):
        shapes[f'conv_nos.{i}.0.weight'] = (33 if i < 3 else 32, 32, 4, 4)
        shapes[f'conv_nos.{i}.0.bias'] = (32, )
    shapes['mlp.0.weight'] = (32, 32, 3, 3)
    shapes['mlp.0.bias'] = (32, )
    shapes['fc.weight'] = (16 * channels_g, seg, 3, 3)
    shapes['fc.bias'] = (16 * channels_g, )
    if with_partnet:
        shapes.update({'partnet.model.' + k: v for k, v in _partnet_shapes().items()})
    return shapes


def official_discriminator_shapes(semantic_nc=35, base=64):
    """The 132 tensors of ``*_D.pth``."""
    ch = [3, 2 * base, 2 * base, 4 * base, 4 * base, 8 * base, 8 * base]
    shapes = {}
    for i in range(6):
        fin, fout = ch[i], ch[i + 1]
        p = f'body_down.{i}.'
        _sn_conv(shapes, p + ('conv1.0' if i == 0 else 'conv1.1'), fin, fout, 3)
        _sn_conv(shapes, p + 'conv2.1', fout, fout, 3)
        if fin != fout:
            _sn_conv(shapes, p + 'conv_s', fin, fout, 1)
    ups = [(8 * base, 8 * base), (16 * base, 4 * base), (8 * base, 4 * base), (8 * base, 2 * base),
           (4 * base, 2 * base), (4 * base, base)]
    for i, (fin, fout) in enumerate(ups):
        p = f'body_up.{i}.'
        _sn_conv(shapes, p + 'conv1.2', fin, fout, 3)
        _sn_conv(shapes, p + 'conv2.1', fout, fout, 3)
        if fin != fout:
            _sn_conv(shapes, p + 'conv_s', fin, fout, 1)
    shapes['layer_up_last.weight'] = (semantic_nc + 1, base, 1, 1)
    shapes['layer_up_last.bias'] = (semantic_nc + 1, )
    shapes['conv_g.weight'] = (1, 4 * base, 3, 3)
    shapes['conv_g.bias'] = (1, )
    return shapes


def random_state_dict(shapes, seed=0, prefix=''):
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, s in shapes.items():
        if k.endswith('num_batches_tracked'):
            out[prefix + k] = torch.tensor(1000 + seed, dtype=torch.long)
        elif k.endswith('running_var'):
            out[prefix + k] = torch.rand(s, generator=g) + 0.5
        else:
            out[prefix + k] = torch.randn(s, generator=g) * 0.05
    for k in [k for k in shapes if k.endswith('.weight_orig')]:
        # consistent spectral-norm vectors (a few power iterations), as a trained file holds
        base = prefix + k[:-len('weight_orig')]
        w = out[prefix + k].flatten(1)
        u = torch.nn.functional.normalize(out[base + 'weight_u'], dim=0)
        for _ in range(3):
            v = torch.nn.functional.normalize(w.t() @ u, dim=0)
            u = torch.nn.functional.normalize(w @ v, dim=0)
        out[base + 'weight_u'], out[base + 'weight_v'] = u, v
    return out


def test_documented_key_counts():
    assert len(official_generator_shapes()) == 424
    assert len(official_discriminator_shapes()) == 132
    params = sum(
        torch.Size(s).numel() for k, s in official_generator_shapes().items()
        if not k.endswith(('_u', '_v', 'running_mean', 'running_var', 'tracked')))
    assert params == pytest.approx(107.96e6, rel=2e-3)  # the official Cityscapes generator: 107.96M


def test_convert_generator_discriminator_and_ipose_layout():
    # the official layout at tiny widths (the full-width shapes are checked above)
    g = random_state_dict(official_generator_shapes(channels_g=2), seed=1, prefix='module.')
    ema = random_state_dict(official_generator_shapes(channels_g=2), seed=2)
    d = random_state_dict(official_discriminator_shapes(base=2), seed=3)
    gen = convert_generator_state_dict(g)
    assert len(gen) == 338 and not any(k.startswith(('partnet', 'module')) for k in gen)
    assert torch.equal(gen['body.0.conv_0.weight_u'], g['module.body.0.conv_0.weight_u'])
    assert gen['body.5.norm_0.first_norm.num_batches_tracked'].dtype == torch.long
    disc = convert_discriminator_state_dict(d)
    assert set(disc) == set(d)
    para = convert_discriminator_state_dict(d, spectral_norm='parametrization')
    assert torch.equal(para['conv_g.weight'], d['conv_g.weight'])
    assert torch.equal(para['body_up.1.conv_s.parametrizations.weight.original'], d['body_up.1.conv_s.weight_orig'])
    assert torch.equal(para['body_up.1.conv_s.parametrizations.weight.0._v'], d['body_up.1.conv_s.weight_v'])

    merged = convert_ipose_checkpoints(generator=g, ema=ema, discriminator=d)
    assert len(merged) == 338 * 2 + 132 + 86 + 1
    assert torch.equal(merged['generator.fc.weight'], g['module.fc.weight'])
    assert torch.equal(merged['generator_ema.module.fc.weight'], ema['fc.weight'])
    assert torch.equal(merged['discriminator.conv_g.bias'], d['conv_g.bias'])
    # PartNet comes from the EMA file (the reference's inference copy)
    assert torch.equal(merged['part_inferencer.partnet.conv_img.weight'], ema['partnet.model.conv_img.weight'])
    only_g = convert_ipose_checkpoints(generator=g)
    assert torch.equal(only_g['part_inferencer.partnet.conv_img.weight'], g['module.partnet.model.conv_img.weight'])


def test_wrong_file_is_reported():
    d = random_state_dict(official_discriminator_shapes(base=2))
    with pytest.raises(CheckpointConversionError, match='132 tensors.*424'):
        convert_generator_state_dict(d, name='best_D.pth')
    with pytest.raises(ValueError, match='at least one'):
        convert_ipose_checkpoints()


def test_cli_writes_one_ipose_checkpoint(tmp_path):
    cli = convert_official_checkpoint
    paths = {}
    for name, sd in (('G', random_state_dict(official_generator_shapes(channels_g=2), 1)),
                     ('EMA', random_state_dict(official_generator_shapes(channels_g=2),
                                               2)), ('D', random_state_dict(official_discriminator_shapes(base=2), 3))):
        paths[name] = str(tmp_path / f'best_{name}.pth')
        torch.save(sd, paths[name])
    out = str(tmp_path / 'ipose.pth')
    cli.main(['--generator', paths['G'], '--ema', paths['EMA'], '--discriminator', paths['D'], '--out', out])
    state = read_checkpoint(out)['state_dict']
    expected = convert_ipose_checkpoints(
        generator=torch.load(paths['G']), ema=torch.load(paths['EMA']), discriminator=torch.load(paths['D']))
    assert set(state) == set(expected)
    assert all(torch.equal(state[k], v) for k, v in expected.items())


def test_converted_weights_load_strictly_and_reproduce_the_generator(message_hub):
    """Official-layout G/EMA/D (tiny widths) -> IPOSE: strict load of generator, EMA and D, and
    the model's synthesis with fixed z / z_part equals running the converted generator directly."""
    import copy

    from ipose_standins import StandInPartInferencer, make_batch

    from mmipose.models.editors import IPOSE
    from mmipose.registry import MODELS
    num_classes = 5
    gen_cfg = dict(type='PSMGenerator', semantic_nc=num_classes, channels_g=2)
    model = IPOSE(
        generator=gen_cfg,
        discriminator=dict(type='OASISDiscriminator', semantic_nc=num_classes, base_channels=4),
        part_inferencer=StandInPartInferencer(),
        num_classes=num_classes,
        ema_config=dict(momentum=0.001, update_buffers=True),
        loss_config=dict(nplus1_loss=dict(type='OASISLoss')))
    g = random_state_dict(official_generator_shapes(num_classes, channels_g=2), seed=1)
    ema = random_state_dict(official_generator_shapes(num_classes, channels_g=2), seed=2)
    d = random_state_dict(official_discriminator_shapes(num_classes, base=2), seed=3)
    converted = convert_ipose_checkpoints(generator=g, ema=ema, discriminator=d)
    own = {k: v for k, v in converted.items() if not k.startswith('part_inferencer.')}
    result = model.load_state_dict(own, strict=False)
    assert result.unexpected_keys == []
    assert [k for k in result.missing_keys if not k.startswith('part_inferencer.')] == []
    assert len(converted) - len(own) == 86  # PartNet goes to the part inferencer

    model.eval()
    direct = MODELS.build(gen_cfg)
    direct.load_state_dict(convert_generator_state_dict(ema), strict=True)
    direct.eval()
    batch = make_batch(batch_size=2, num_classes=num_classes, height=64, width=64, objects_per_image=(2, 1))
    data = model.data_preprocessor(copy.deepcopy(batch))
    z = torch.randn(2, 64)
    z_part = torch.randn(2, 31, 2, 2)
    data['inputs'].update(z=z, z_part=z_part)
    outputs = model(**data)
    onehot, features, logits, _ = model.prepare_conditions(data['inputs'], data['data_samples'])
    with torch.no_grad():
        expected = direct(onehot, features, logits, z=z, z_part=z_part)
    expected = ((expected + 1) * 127.5).clamp(0, 255).flip(1)  # RGB [-1,1] -> BGR [0,255]
    for i, sample in enumerate(outputs):
        torch.testing.assert_close(sample.fake_img, expected[i], atol=1e-3, rtol=0)
    again = model(**data)
    for a, b in zip(outputs, again):
        assert torch.equal(a.fake_img, b.fake_img)  # deterministic with fixed z / z_part
