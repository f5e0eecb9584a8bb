"""IPOSE model logic: G-then-D step, optimizers, EMA, sampling outputs, input errors.

Uses the small stand-in networks of ``_ipose_standins`` (same interfaces as PartNet /
PSMGenerator / OASISDiscriminator / losses in the data contract), so each test runs in well
under a second.
"""
import copy

import pytest
import torch
from ipose_standins import (StandInDiscriminator, StandInGenerator, StandInHingeLoss, StandInNPlus1Loss,
                            StandInPartInferencer, make_batch)
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmipose.models.editors import IPOSE
from mmipose.registry import MODELS

C = 5


def build_model(log=None, ema=True, with_parts=True, global_loss=True):
    log = [] if log is None else log
    return IPOSE(
        generator=StandInGenerator(C, log=log),
        discriminator=StandInDiscriminator(C, log=log),
        part_inferencer=StandInPartInferencer(log=log) if with_parts else None,
        num_classes=C,
        ema_config=dict(type='ExponentialMovingAverage', momentum=0.5, update_buffers=True) if ema else None,
        loss_config=dict(
            nplus1_loss=StandInNPlus1Loss(),
            global_gan_loss=StandInHingeLoss() if global_loss else None,
            lambda_global=1.0))


def optim_wrappers(model):
    return OptimWrapperDict(
        generator=OptimWrapper(torch.optim.Adam(model.generator.parameters(), lr=1e-2, betas=(0.0, 0.999))),
        discriminator=OptimWrapper(torch.optim.Adam(model.discriminator.parameters(), lr=1e-2, betas=(0.0, 0.999))))


def test_registered_and_part_inferencer_frozen():
    assert MODELS.get('IPOSE') is IPOSE
    model = build_model()
    assert not any(p.requires_grad for p in model.part_inferencer.parameters())
    model.train()
    assert not model.part_inferencer.training
    assert model.generator.training


def test_train_step_order_optimizers_and_ema(message_hub):
    log = []
    torch.manual_seed(0)
    model = build_model(log)
    wrappers = optim_wrappers(model)
    g_before = copy.deepcopy(model.generator.state_dict())
    d_before = copy.deepcopy(model.discriminator.state_dict())
    for it in range(2):
        message_hub.update_info('iter', it)
        log.clear()
        out = model.train_step(make_batch(), wrappers)
        # parts once; G step: G (grad) then D with frozen params; D step: G under no_grad,
        # then D on fake, real (grad-enabled D params)
        assert log == [('parts', 2, [1, 0]), ('G', True), ('D', False), ('G', False), ('D', True), ('D', True)]
    assert set(out) == {
        'loss_g_adv', 'loss_g_global', 'loss_g', 'loss_d_fake', 'loss_d_real', 'loss_d_global_fake',
        'loss_d_global_real', 'loss_d'
    }
    assert all(isinstance(v, float) and v == v and abs(v) != float('inf') for v in out.values())
    assert out['loss_g'] == pytest.approx(out['loss_g_adv'] + out['loss_g_global'], rel=1e-5)
    assert wrappers['generator'].optimizer.state_dict()['state'][0]['step'] == 2
    assert wrappers['discriminator'].optimizer.state_dict()['state'][0]['step'] == 2
    assert any(not torch.equal(v, g_before[k]) for k, v in model.generator.state_dict().items())
    assert any(not torch.equal(v, d_before[k]) for k, v in model.discriminator.state_dict().items())
    # EMA (momentum 0.5): first update copies, second averages -> between old copy and new G
    ema = model.generator_ema.module.state_dict()
    gen = model.generator.state_dict()
    assert int(model.generator_ema.steps) == 2
    assert not torch.equal(ema['conv.weight'], gen['conv.weight'])
    assert all(p.requires_grad for p in model.discriminator.parameters())


def test_g_step_updates_generator_before_d_step_fake(message_hub):
    """The D step's fake comes from the generator *after* its update (reference order)."""
    torch.manual_seed(0)
    model = build_model()
    wrappers = optim_wrappers(model)
    seen = {}
    original = model.train_discriminator

    def spy(inputs, data_samples, wrapper):
        seen['gen_step'] = wrappers['generator'].optimizer.state_dict()['state'][0]['step']
        return original(inputs, data_samples, wrapper)

    model.train_discriminator = spy
    model.train_step(make_batch(), wrappers)
    assert seen['gen_step'] == 1


@pytest.mark.parametrize('objects_per_image', [(0, 0), (40, 3), (250, 1)])
def test_zero_and_many_objects(message_hub, objects_per_image):
    """No objects, many, and 250 (boxes overlap, many objects fully covered by later ones)."""
    torch.manual_seed(0)
    model = build_model()
    out = model.train_step(make_batch(objects_per_image=objects_per_image), optim_wrappers(model))
    assert all(torch.isfinite(torch.tensor(v)) for v in out.values())


def test_val_step_outputs(message_hub):
    torch.manual_seed(0)
    model = build_model()
    model.train_step(make_batch(), optim_wrappers(model))
    model.eval()
    batch = make_batch(seed=3)
    outputs = model.val_step(copy.deepcopy(batch))
    assert len(outputs) == 2
    for i, sample in enumerate(outputs):
        assert sample.sample_model == 'ema'
        assert sample.fake_img.shape == (3, 32, 64)
        assert 0 <= float(sample.fake_img.min()) and float(sample.fake_img.max()) <= 255
        assert sample.pred_parts.shape == (1, 32, 64) and sample.pred_parts.dtype == torch.long
        assert torch.equal(sample.label, batch['inputs']['label'][i].long())
        assert torch.equal(sample.gt_img, batch['data_samples'][i].gt_img)  # BGR as loaded
    # parts: object of image 0 has parts 1 (top) and 2 (bottom), zeros elsewhere
    parts = outputs[0].pred_parts[0]
    assert set(parts.unique().tolist()) == {0, 1, 2}
    assert int((parts > 0).sum()) == 6 * 8
    assert int(outputs[1].pred_parts.sum()) == 0


def test_fake_img_is_bgr_of_the_generator_output(message_hub):
    """fake_img = BGR [0,255] of the RGB [-1,1] generator output, with the given z."""
    model = build_model()
    model.eval()
    batch = make_batch(batch_size=1, objects_per_image=(1, ))
    z = torch.randn(1, 4)
    data = model.data_preprocessor(copy.deepcopy(batch))
    data['inputs']['z'] = z
    data['inputs']['sample_model'] = 'orig'
    out = model(**data)[0].fake_img
    onehot, pf, pl, _ = model.prepare_conditions(data['inputs'], data['data_samples'])
    rgb = model.generator(onehot, pf, pl, z=z)[0]
    expected = ((rgb + 1) * 127.5).clamp(0, 255).flip(0)
    torch.testing.assert_close(out, expected, atol=1e-4, rtol=0)


def test_ema_orig_share_noise_and_label_only_inputs(message_hub):
    model = build_model()
    model.eval()
    label = [torch.randint(0, C, (1, 32, 64)) for _ in range(2)]
    outputs = model.val_step(dict(inputs=dict(label=label, sample_model='ema/orig')))
    assert len(outputs) == 2
    for sample in outputs:
        assert sample.ema.fake_img.shape == (3, 32, 64)
        # EMA not yet updated = copy of G, same noise -> same image
        torch.testing.assert_close(sample.ema.fake_img, sample.orig.fake_img)
        assert int(sample.pred_parts.sum()) == 0


def test_without_part_inferencer_and_global_loss(message_hub):
    model = build_model(with_parts=False, global_loss=False, ema=False)
    out = model.train_step(make_batch(), optim_wrappers(model))
    assert 'loss_g_global' not in out and 'loss_d_global_real' not in out
    model.eval()
    samples = model.val_step(make_batch())
    assert samples[0].sample_model == 'orig'


def test_refresh_ema_norm_stats(message_hub):
    model = build_model()
    model.eval()
    ema = model.generator_ema.module
    before = ema.norm.running_mean.clone()
    used = model.refresh_ema_norm_stats([make_batch(seed=s) for s in range(3)])
    assert used == 3
    assert not torch.equal(before, ema.norm.running_mean)
    assert int(ema.norm.num_batches_tracked) == 3
    assert not ema.training


def test_bad_label_and_size_mismatch(message_hub):
    model = build_model()
    wrappers = optim_wrappers(model)
    with pytest.raises(ValueError, match=r'class id 7.*num_classes=5'):
        model.train_step(make_batch(label_max=8, seed=1), wrappers)
    batch = make_batch()
    batch['inputs']['inst'] = [t[:, :16] for t in batch['inputs']['inst']]
    with pytest.raises(ValueError, match='instance map'):
        model.train_step(batch, wrappers)
    batch = make_batch()
    batch['data_samples'][0].set_metainfo(dict(objects=torch.zeros(2, 5, dtype=torch.long)))
    with pytest.raises(ValueError, match=r"'objects' of image 0"):
        model.val_step(batch)


def test_train_step_with_real_losses_discriminator_and_clip(message_hub):
    """The mmipose OASISDiscriminator, OASISLoss, LabelMix, GlobalGANLoss and (random-init) CLIP
    style loss through two steps (one per style mode); CLIP stays out of the state dict."""
    from mmipose.models.losses import choose_clip_mode
    torch.manual_seed(0)
    model = IPOSE(
        generator=StandInGenerator(C),
        discriminator=dict(type='OASISDiscriminator', semantic_nc=C, base_channels=8),
        part_inferencer=StandInPartInferencer(),
        num_classes=C,
        ema_config=dict(momentum=0.001, update_buffers=True),
        loss_config=dict(
            nplus1_loss=dict(type='OASISLoss', contain_dontcare_label=True),
            labelmix_loss=dict(type='LabelMixLoss'),
            lambda_labelmix=5.0,
            global_gan_loss=dict(type='GlobalGANLoss', loss_type='hinge'),
            lambda_global=1.0,
            style_loss=dict(type='CLIPStyleLoss'),
            lambda_style=10.0,
            style_mode_seed=42))
    wrappers = optim_wrappers(model)
    steps = {choose_clip_mode(i, 42): i for i in range(20)}
    assert set(steps) == {'whole', 'objects'}
    for mode, step in steps.items():
        message_hub.update_info('iter', step)
        out = model.train_step(make_batch(height=64, width=64, objects_per_image=(2, 0)), wrappers)
        assert {'loss_g_style', 'loss_d_labelmix', 'loss_d_global_real'} <= set(out)
        assert all(v == v and abs(v) < 1e6 for v in out.values()), (mode, out)
    state = model.state_dict()
    assert not any('style_loss' in k for k in state)
    assert not any(p.requires_grad for p in model.losses.parameters())
    model.load_state_dict(state, strict=True)  # CLIP weights are not expected in checkpoints


def test_objects_without_supports_are_skipped_with_one_warning(message_hub):
    import warnings
    log = []
    model = build_model(log)
    model.part_inferencer.support_bank = type('Bank', (), {'categories': [24]})()
    model.eval()
    batch = make_batch(objects_per_image=(2, 1))  # all objects are part category 26
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        samples = model.val_step(copy.deepcopy(batch))
        model.val_step(copy.deepcopy(batch))
    assert log[0] == ('parts', 2, [0, 0])
    assert all(int(s.pred_parts.sum()) == 0 for s in samples)
    messages = [str(w.message) for w in caught if 'no supports' in str(w.message)]
    assert len(messages) == 1 and 'no supports for part category id(s) [26]' in messages[0]


@pytest.mark.parametrize('injection', ['psm', 'spade', 'concat', 'none'])
def test_every_trainable_generator_parameter_gets_a_gradient(message_hub, injection):
    """DDP runs with find_unused_parameters=False: the reference's unused conv_nos[5] is frozen."""
    model = IPOSE(
        generator=dict(type='PSMGenerator', semantic_nc=C, channels_g=2, spade_hidden_nc=8, part_injection=injection),
        discriminator=StandInDiscriminator(C),
        part_inferencer=StandInPartInferencer() if injection != 'none' else None,
        num_classes=C,
        loss_config=dict(nplus1_loss=StandInNPlus1Loss()))
    data = model.data_preprocessor(make_batch(height=64, width=64), True)
    onehot, features, logits, _ = model.prepare_conditions(data['inputs'], data['data_samples'])
    model.generator(onehot, features, logits).square().mean().backward()
    unused = [n for n, p in model.generator.named_parameters() if p.requires_grad and p.grad is None]
    assert unused == []
    if injection == 'psm':
        assert not any(p.requires_grad for p in model.generator.conv_nos[5].parameters())


def test_full_chain_with_partnet_generator_and_discriminator(message_hub):
    """Real ObjectPartInferencer (random PartNet, synthetic supports), PSMGenerator and
    OASISDiscriminator at tiny widths: one training step and a val step with part maps."""
    import numpy as np
    maps = {26: np.random.default_rng(0).integers(0, 4, (2, 64, 64))}
    model = IPOSE(
        generator=dict(type='PSMGenerator', semantic_nc=C, channels_g=2, spade_hidden_nc=8),
        discriminator=dict(type='OASISDiscriminator', semantic_nc=C, base_channels=4),
        part_inferencer=dict(
            type='ObjectPartInferencer',
            partnet=dict(type='PartNet', num_attention_layers=1),
            support_bank=dict(type='SupportBank', root=None, categories=[26], num_supports=2, maps=maps)),
        num_classes=C,
        ema_config=dict(momentum=0.001, update_buffers=True),
        loss_config=dict(
            nplus1_loss=dict(type='OASISLoss'),
            labelmix_loss=dict(type='LabelMixLoss'),
            global_gan_loss=dict(type='GlobalGANLoss')))
    assert not any(p.requires_grad for p in model.part_inferencer.parameters())
    out = model.train_step(make_batch(height=64, width=64, objects_per_image=(3, 0)), optim_wrappers(model))
    assert all(v == v for v in out.values())
    model.eval()
    samples = model.val_step(make_batch(height=64, width=64, objects_per_image=(3, 0)))
    assert samples[0].fake_img.shape == (3, 64, 64)
    assert int(samples[1].pred_parts.sum()) == 0  # no objects, no parts
    assert int((samples[0].pred_parts > 0).sum()) <= 3 * 6 * 8  # parts only inside objects


def test_global_warmup_ramps_the_global_terms_of_both_steps(message_hub):
    """global_warmup_iters=4: weight step/4 (then 1) on the hinge terms of G and D; 0 = reference."""
    import torch.nn.functional as F

    from mmipose.models.losses.ipose_losses import IPOSELosses
    hinge = dict(type='GlobalGANLoss', loss_type='hinge')
    ramped = IPOSELosses(
        nplus1_loss=StandInNPlus1Loss(), global_gan_loss=hinge, lambda_global=2.0, global_warmup_iters=4)
    plain = IPOSELosses(nplus1_loss=StandInNPlus1Loss(), global_gan_loss=hinge, lambda_global=2.0)
    torch.manual_seed(0)
    onehot = F.one_hot(torch.randint(0, C, (2, 8, 8)), C).permute(0, 3, 1, 2).float()
    glob = torch.randn(2, 1, 2, 2)

    def discriminator(img):
        return torch.zeros(img.shape[0], C + 1, 8, 8), glob[:img.shape[0]]

    img = torch.zeros(2, 3, 8, 8)
    for step, expected_weight in [(0, 0.0), (1, 0.5), (3, 1.5), (4, 2.0), (40, 2.0)]:
        g = ramped.generator_losses(torch.zeros(2, C + 1, 8, 8), glob, onehot, img, img, [], step)
        d = ramped.discriminator_losses(discriminator, img, img, onehot, step=step)
        assert g['loss_g_global'].item() == pytest.approx(expected_weight * -glob.mean().item(), abs=1e-6)
        assert d['loss_d_global_fake'].item() == pytest.approx(
            expected_weight * F.relu(1 + glob).mean().item(), abs=1e-6)
        assert d['loss_d_global_real'].item() == pytest.approx(
            expected_weight * F.relu(1 - glob).mean().item(), abs=1e-6)
        d_plain = plain.discriminator_losses(discriminator, img, img, onehot, step=step)
        assert d_plain['loss_d_global_real'].item() == pytest.approx(2.0 * F.relu(1 - glob).mean().item(), abs=1e-6)
    with pytest.raises(ValueError, match='global_warmup_iters'):
        IPOSELosses(nplus1_loss=StandInNPlus1Loss(), global_warmup_iters=-1)


def test_train_step_passes_the_iteration_to_the_global_warmup(message_hub):
    torch.manual_seed(0)
    model = IPOSE(
        generator=StandInGenerator(C),
        discriminator=dict(type='OASISDiscriminator', semantic_nc=C, base_channels=8),
        part_inferencer=StandInPartInferencer(),
        num_classes=C,
        loss_config=dict(
            nplus1_loss=dict(type='OASISLoss'),
            global_gan_loss=dict(type='GlobalGANLoss', loss_type='hinge'),
            lambda_global=1.0,
            global_warmup_iters=10))
    wrappers = optim_wrappers(model)
    message_hub.update_info('iter', 0)
    first = model.train_step(make_batch(height=64, width=64), wrappers)
    message_hub.update_info('iter', 20)
    later = model.train_step(make_batch(height=64, width=64), wrappers)
    for key in ('loss_g_global', 'loss_d_global_fake', 'loss_d_global_real'):
        assert first[key] == 0.0 and later[key] != 0.0, (key, first, later)
