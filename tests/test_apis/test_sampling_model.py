"""Inference-only loading: ``init_model(..., sample_model=...)`` builds PartNet and one generator.

The toy iPOSE config (tiny widths) with a small random CLIP style loss, so the whole model holds a
discriminator, a style loss and two generators. The checkpoint's trained and EMA generators get
different random weights, so loading the wrong one cannot go unnoticed.
"""
import copy
import os.path as osp

import pytest
import torch

from mmipose.apis import IPOSEInferencer, init_model
from mmipose.datasets.toy import prepare_toy_data

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'toy', 'ipose_tiny_1xb4-600iters_toy-64x128.py')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('sampling_model')
    data = str(tmp / 'toy')
    prepare_toy_data(data, seed=0, num_train=40, num_val=1, num_supports=3)
    config = str(tmp / 'toy_with_clip.py')
    with open(config, 'w') as f:
        f.write(f"_base_ = {CONFIG!r}\n"
                f"model = dict(part_inferencer=dict(support_bank=dict(root={data + '/supports'!r})),\n"
                "             loss_config=dict(style_loss=dict(_delete_=True, type='CLIPStyleLoss',\n"
                "                                              vision_width=64)))\n")
    torch.manual_seed(0)
    full = init_model(config, None)
    assert full.losses.style_loss is not None and full.discriminator is not None
    state_dict = full.state_dict()
    g = torch.Generator().manual_seed(7)
    for key, value in state_dict.items():  # "trained": G and EMA G differ from each other
        if value.is_floating_point():
            state_dict[key] = 0.1 * torch.randn(value.shape, generator=g)
            if key.endswith('running_var'):
                state_dict[key] = state_dict[key].abs() + 0.5
    checkpoint = str(tmp / 'ipose.pth')
    torch.save(dict(meta=dict(iter=1), state_dict=state_dict), checkpoint)
    no_ema = str(tmp / 'ipose_no_ema.pth')
    torch.save(dict(state_dict={k: v for k, v in state_dict.items() if not k.startswith('generator_ema.')}), no_ema)
    return dict(state_dict=state_dict, checkpoint=checkpoint, no_ema=no_ema, full=full, config=config)


def _batch(seed=3):
    """One 64x128 toy scene with fixed z and z_part."""
    import numpy as np
    from mmagic.structures import DataSample

    from mmipose.datasets.object_boxes import OBJECT_ROW_WIDTH, compute_object_boxes
    label = np.full((64, 128), 1, np.int64)
    label[20:50, 10:40] = 7  # car
    label[10:60, 70:90] = 6  # person
    inst = label.copy()
    inst[label == 7] = 7001
    inst[label == 6] = 6001
    objects = np.asarray(compute_object_boxes(inst, label, {6: 24, 7: 26}), np.int64)
    g = torch.Generator().manual_seed(seed)
    data = dict(
        inputs=dict(
            label=[torch.from_numpy(label)[None]],
            inst=[torch.from_numpy(inst)[None]],
            z=[torch.randn(64, generator=g)],
            z_part=[torch.randn(31, 2, 4, generator=g)]),
        data_samples=[DataSample(metainfo=dict(objects=objects.reshape(-1, OBJECT_ROW_WIDTH)))])
    return data


def _sample(model, sample_model):
    data = _batch()
    data['inputs']['sample_model'] = sample_model
    with torch.no_grad():
        out = model.val_step(data)[0]
    return out.fake_img, out.pred_parts


@pytest.mark.parametrize('sample_model', ['ema', 'orig'])
def test_lean_model_samples_equal_the_full_model_bit_for_bit(setup, sample_model):
    full = init_model(setup['config'], setup['checkpoint'])
    full.release_training_modules(sample_model)
    lean = init_model(setup['config'], setup['checkpoint'], sample_model=sample_model)
    image_full, parts_full = _sample(full, sample_model)
    image_lean, parts_lean = _sample(lean, sample_model)
    assert torch.isfinite(image_full).all() and image_full.std() > 1
    torch.testing.assert_close(image_lean, image_full, rtol=0, atol=0)
    assert torch.equal(parts_lean, parts_full) and parts_full.max() > 0
    # the sampled generator holds exactly the checkpoint's tensors of that generator
    prefix = 'generator_ema.module.' if sample_model == 'ema' else 'generator.'
    generator = lean.generator_ema.module if sample_model == 'ema' else lean.generator
    expected = {k[len(prefix):]: v for k, v in setup['state_dict'].items() if k.startswith(prefix)}
    assert set(generator.state_dict()) == set(expected)
    for key, value in generator.state_dict().items():
        assert torch.equal(value, expected[key]), key
    # the other generator's weights really differ: loading the wrong one would have shown
    other = 'generator.' if sample_model == 'ema' else 'generator_ema.module.'
    key = 'conv_img.weight'
    assert not torch.equal(setup['state_dict'][prefix + key], setup['state_dict'][other + key])


def test_lean_model_holds_no_training_modules(setup):
    lean = init_model(setup['config'], setup['checkpoint'], sample_model='auto')
    assert lean.with_ema_gen and lean.generator is None
    assert lean.discriminator is None and lean.losses.style_loss is None
    prefixes = {k.split('.')[0] for k, _ in lean.named_parameters()}
    assert prefixes == {'generator_ema', 'part_inferencer'}
    full = setup['full']
    expected = (
        sum(p.numel() for p in full.generator_ema.parameters()) + sum(p.numel()
                                                                      for p in full.part_inferencer.parameters()))
    assert sum(p.numel() for p in lean.parameters()) == expected
    # what was left out: the trained generator, D and the CLIP style loss
    left_out = [
        sum(p.numel() for p in m.parameters()) for m in (full.generator, full.discriminator, full.losses.style_loss)
    ]
    assert min(left_out) > 0
    assert sum(p.numel() for p in full.parameters()) == expected + sum(left_out)
    # the inferencer built from a config path is lean too, and samples as the full model does
    inferencer = IPOSEInferencer(setup['config'], setup['checkpoint'], backend='pytorch')
    assert inferencer.model.discriminator is None and inferencer.model.generator is None
    assert inferencer.model.losses.style_loss is None and inferencer.sample_model == 'ema'
    reference = copy.deepcopy(full)
    reference.load_state_dict(setup['state_dict'], strict=False)
    reference.release_training_modules('ema')
    by_full = IPOSEInferencer(reference.eval(), part_categories={6: 24, 7: 26}, backend='pytorch')
    data = _batch()
    label = data['inputs']['label'][0][0].numpy()
    inst = data['inputs']['inst'][0][0].numpy()
    noise = by_full.sample_noise(64, 128, seed=5)
    a, b = inferencer(label, inst, noise=noise), by_full(label, inst, noise=noise)
    assert (a.image == b.image).all() and (a.parts == b.parts).all()


def test_checkpoint_without_the_sampled_generator_is_a_clear_error(setup):
    with pytest.raises(
            ValueError,
            match=r"ipose_no_ema.pth has no weights of the sampled generator "
            r"'generator_ema.module.\*'.*sample_model='orig'"):
        init_model(setup['config'], setup['no_ema'], sample_model='ema')
    # 'auto' means 'ema' for a config with EMA: the same error, not a silent fallback
    with pytest.raises(ValueError, match='has no weights of the sampled generator'):
        init_model(setup['config'], setup['no_ema'], sample_model='auto')
    # the trained generator is there
    model = init_model(setup['config'], setup['no_ema'], sample_model='orig')
    assert torch.equal(model.generator.conv_img.weight, setup['state_dict']['generator.conv_img.weight'])


def test_missing_or_extra_tensors_are_errors(setup, tmp_path):
    state_dict = dict(setup['state_dict'])
    dropped = next(k for k in state_dict if k.startswith('generator_ema.module.'))
    del state_dict[dropped]
    path = str(tmp_path / 'short.pth')
    torch.save(dict(state_dict=state_dict), path)
    with pytest.raises(ValueError, match=rf"missing \['{dropped}'\] \(1 in all\), unexpected \[\]"):
        init_model(setup['config'], path, sample_model='ema')
    state_dict = dict(setup['state_dict'], **{'generator_ema.module.extra': torch.zeros(1)})
    torch.save(dict(state_dict=state_dict), path)
    with pytest.raises(ValueError, match=r"unexpected \['generator_ema.module.extra'\]"):
        init_model(setup['config'], path, sample_model='ema')
    with pytest.raises(ValueError, match="sample_model must be 'ema', 'orig', 'auto' or None"):
        init_model(setup['config'], path, sample_model='both')
    no_ema_cfg = {'model.ema_config': None}
    with pytest.raises(ValueError, match="has no model.ema_config"):
        init_model(setup['config'], path, cfg_options=no_ema_cfg, sample_model='ema')


def test_partnet_from_its_config_file_when_the_checkpoint_has_none(setup, tmp_path):
    prefix = 'part_inferencer.partnet.'
    g = torch.Generator().manual_seed(11)
    partnet = {
        k[len(prefix):]: torch.randn(v.shape, generator=g) if v.is_floating_point() else v
        for k, v in setup['state_dict'].items() if k.startswith(prefix)
    }
    partnet_file = str(tmp_path / 'partnet.pth')
    torch.save(dict(state_dict=partnet), partnet_file)
    without = {k: v for k, v in setup['state_dict'].items() if not k.startswith(prefix)}
    path = str(tmp_path / 'no_partnet.pth')
    torch.save(dict(state_dict=without), path)
    options = {'model.part_inferencer.partnet.checkpoint': partnet_file}
    model = init_model(setup['config'], path, cfg_options=options, sample_model='ema')
    for key, value in model.part_inferencer.partnet.state_dict().items():
        assert torch.equal(value, partnet[key]), key
    assert torch.equal(model.generator_ema.module.conv_img.weight,
                       setup['state_dict']['generator_ema.module.conv_img.weight'])
    # a checkpoint with only part of PartNet is an error, not a silent mix of the two
    dropped = prefix + next(iter(partnet))
    partial = {k: v for k, v in setup['state_dict'].items() if k != dropped}
    torch.save(dict(state_dict=partial), path)
    with pytest.raises(ValueError, match=rf"missing \['{dropped}'\]"):
        init_model(setup['config'], path, cfg_options=options, sample_model='ema')
    # without a PartNet file the missing tensors are an error too
    torch.save(dict(state_dict=without), path)
    with pytest.raises(ValueError, match=r"missing \['part_inferencer.partnet"):
        init_model(setup['config'], path, sample_model='ema')
