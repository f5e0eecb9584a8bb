"""IPOSE speed levers: batched D passes, channels-last weights, bf16 sampling and training.

Small real networks (PSMGenerator, OASISDiscriminator, OASISLoss, LabelMix, hinge) at tiny
widths; each test runs in a few seconds on a CPU.
"""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from ipose_standins import StandInPartInferencer, make_batch  # noqa: E402
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmipose.engine.optim_wrappers import CPUAutocastOptimWrapper
from mmipose.models.editors import IPOSE
from mmipose.models.editors.ipose import _power_iterations

C = 5


def build_model(**kwargs):
    torch.manual_seed(0)
    return IPOSE(
        generator=dict(type='PSMGenerator', semantic_nc=C, channels_g=2, spade_hidden_nc=8),
        discriminator=dict(type='OASISDiscriminator', semantic_nc=C, base_channels=4),
        part_inferencer=StandInPartInferencer(),
        num_classes=C,
        ema_config=dict(momentum=0.001, update_buffers=True),
        loss_config=dict(
            nplus1_loss=dict(type='OASISLoss', contain_dontcare_label=True),
            labelmix_loss=dict(type='LabelMixLoss'),
            lambda_labelmix=5.0,
            global_gan_loss=dict(type='GlobalGANLoss', loss_type='hinge')),
        **kwargs)


def wrappers(model, wrapper=OptimWrapper, lr=1e-3, **kw):
    return OptimWrapperDict(
        **{
            name: wrapper(torch.optim.Adam(getattr(model, name).parameters(), lr=lr, betas=(0.0, 0.999)), **kw)
            for name in ('generator', 'discriminator')
        })


def batch(seed=0):
    return make_batch(num_classes=C, height=64, width=64, objects_per_image=(2, 1), seed=seed)


def separate_d_losses(model, fake, real, onehot):
    """The reference's D step written out: three D calls, then the five terms."""
    losses = model.losses
    d = model.discriminator
    from mmipose.models.losses import generate_labelmix
    mixed, mask = generate_labelmix(onehot, fake, real)  # D draws no random numbers
    seg_fake, glob_fake = d(fake)
    seg_real, glob_real = d(real)
    seg_mixed, _ = d(mixed)
    expected = mask * seg_real + (1 - mask) * seg_fake
    return dict(
        loss_d_fake=losses.nplus1_loss(seg_fake, onehot, for_real=False),
        loss_d_real=losses.nplus1_loss(seg_real, onehot, for_real=True),
        loss_d_global_fake=F.relu(1 + glob_fake).mean(),
        loss_d_global_real=F.relu(1 - glob_real).mean(),
        loss_d_labelmix=5.0 * F.mse_loss(expected, seg_mixed))


def spectral_buffers(module):
    return {k: v.clone() for k, v in module.state_dict().items() if k.endswith(('_u', '_v'))}


def test_discriminator_has_no_batch_dependent_layer():
    """In eval mode (fixed spectral-norm estimates) a batch of three equals three calls."""
    d = build_model().discriminator
    _power_iterations(d, 300)
    d.eval()
    images = torch.randn(3, 3, 64, 64)
    seg, glob = d(images)
    for i in range(3):
        seg_i, glob_i = d(images[i:i + 1])
        torch.testing.assert_close(seg[i:i + 1], seg_i, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(glob[i:i + 1], glob_i, rtol=1e-5, atol=1e-6)


def test_batched_d_step_equals_separate_passes(message_hub):
    """Loss values and D gradients of one batched call equal the three-call reference once the
    spectral-norm power iteration has converged; the u/v buffers end the step identically."""
    model = build_model().train()
    _power_iterations(model.discriminator, 300)  # a trained D: converged estimates
    data = model.data_preprocessor(batch(), True)
    inputs = model._with_conditions(data['inputs'], data['data_samples'])
    with torch.no_grad():
        fake = model.generator(inputs['onehot'], inputs['part_features'], inputs['part_logits'])
    reference = copy.deepcopy(model)

    torch.manual_seed(1)
    ref_losses = separate_d_losses(reference, fake, inputs['img'], inputs['onehot'])
    sum(ref_losses.values()).backward()
    torch.manual_seed(1)
    losses = model.losses.discriminator_losses(model.discriminator, fake, inputs['img'], inputs['onehot'], batched=True)
    _power_iterations(model.discriminator, model.losses.num_d_passes - 1)
    sum(losses.values()).backward()

    assert set(losses) == set(ref_losses)
    for key in ref_losses:
        torch.testing.assert_close(losses[key], ref_losses[key], rtol=1e-4, atol=1e-6)
    for (name, p), p_ref in zip(model.discriminator.named_parameters(), reference.discriminator.parameters()):
        torch.testing.assert_close(p.grad, p_ref.grad, rtol=1e-3, atol=1e-6, msg=name)
    ref_buffers = spectral_buffers(reference.discriminator)
    for key, value in spectral_buffers(model.discriminator).items():
        torch.testing.assert_close(value, ref_buffers[key], rtol=0, atol=1e-6, msg=key)


@pytest.mark.slow
def test_batched_train_step_close_to_separate(message_hub):
    """Whole train steps: same losses (within 1e-3 relative) with batch_d_passes on and off."""
    separate, batched = build_model(), build_model(batch_d_passes=True)
    batched.load_state_dict(separate.state_dict())
    for model in (separate, batched):
        _power_iterations(model.discriminator, 300)
    w_sep, w_bat = wrappers(separate), wrappers(batched)
    for step in range(2):
        message_hub.update_info('iter', step)
        torch.manual_seed(step)
        out_sep = separate.train_step(batch(step), w_sep)
        torch.manual_seed(step)
        out_bat = batched.train_step(batch(step), w_bat)
        for key, value in out_sep.items():
            assert out_bat[key] == pytest.approx(value, rel=1e-3, abs=1e-5), (step, key)


def test_channels_last_keeps_fp32_outputs(message_hub):
    """channels_last (the fastest fp32 layout) changes images by < 1e-4 and losses by < 1e-4."""
    default, fast = build_model(), build_model(channels_last=True)
    fast.load_state_dict(default.state_dict())
    assert fast.generator.fc.weight.is_contiguous(memory_format=torch.channels_last)
    torch.manual_seed(3)
    z, z_part = torch.randn(2, 64), torch.randn(2, 31, 2, 2)
    outputs = []
    for model in (default, fast):
        model.eval()
        data = batch()
        data['inputs'].update(z=list(z), z_part=list(z_part))
        outputs.append(torch.stack([s.fake_img for s in model.val_step(data)]))
    torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=1e-4 * 255)
    losses = []
    for model in (default, fast):
        model.train()
        torch.manual_seed(4)
        losses.append(model.train_step(batch(1), wrappers(model)))
    for key, value in losses[0].items():
        assert losses[1][key] == pytest.approx(value, rel=1e-4, abs=1e-6), key


def psnr_255(a, b):
    mse = float(((a - b)**2).mean())
    return 10 * math.log10(255**2 / max(mse, 1e-12))


def test_bf16_sampling_returns_float_images_close_to_fp32(message_hub):
    """bf16 autocast sampling: float32 images within 40 dB PSNR of fp32 sampling."""
    fp32, bf16 = build_model(), build_model(sample_precision='bf16')
    # As sampled in practice: EMA BN statistics refreshed, and an output layer scaled so the
    # images span the value range as a trained model's do (random tiny weights give ~flat grey).
    fp32.refresh_ema_norm_stats([batch(s) for s in range(3)])
    with torch.no_grad():
        fp32.generator_ema.module.conv_img.weight.mul_(200)
    bf16.load_state_dict(fp32.state_dict())
    torch.manual_seed(3)
    z, z_part = torch.randn(2, 64), torch.randn(2, 31, 2, 2)
    images = []
    for model in (fp32, bf16):
        model.eval()
        data = batch()
        data['inputs'].update(z=list(z), z_part=list(z_part))
        images.append(torch.stack([s.fake_img for s in model.val_step(data)]))
    assert images[1].dtype == torch.float32
    assert images[0].std() > 40  # not a flat image
    assert psnr_255(images[1], images[0]) > 40  # bf16 keeps ~3 significant digits
    with pytest.raises(ValueError, match="sample_precision must be one of"):
        build_model(sample_precision='int8')


@pytest.mark.slow
def test_bf16_training_losses_track_fp32(message_hub):
    """First steps of a toy run under CPU bf16 autocast: every loss within 1 % (or 0.005) of
    fp32 (measured: at most 0.002 apart over these steps)."""
    fp32, bf16 = build_model(), build_model()
    _power_iterations(fp32, 300)  # converged spectral norms, as after the first iterations
    bf16.load_state_dict(fp32.state_dict())
    w32, w16 = wrappers(fp32, lr=1e-4), wrappers(bf16, CPUAutocastOptimWrapper, lr=1e-4)
    for step in range(4):
        message_hub.update_info('iter', step)
        torch.manual_seed(step)
        out32 = fp32.train_step(batch(step), w32)
        torch.manual_seed(step)
        out16 = bf16.train_step(batch(step), w16)
        for key, value in out32.items():
            assert out16[key] == pytest.approx(value, rel=0.01, abs=0.005), (step, key, value)


def test_mmagic_loss_hooks_are_not_silently_used():
    model = build_model()
    with pytest.raises(NotImplementedError, match='IPOSELosses'):
        model.gen_loss({}, None)
    with pytest.raises(NotImplementedError, match='IPOSELosses'):
        model.disc_loss({}, None)


def test_release_training_modules_keeps_ema_samples(message_hub):
    model = build_model().eval()
    data = batch()
    torch.manual_seed(3)
    data['inputs'].update(z=list(torch.randn(2, 64)), z_part=list(torch.randn(2, 31, 2, 2)))
    before = torch.stack([s.fake_img for s in model.val_step(copy.deepcopy(data))])
    model.release_training_modules('ema')
    assert model.discriminator is None and model.generator is None
    after = torch.stack([s.fake_img for s in model.val_step(copy.deepcopy(data))])
    torch.testing.assert_close(after, before, rtol=0, atol=0)
    with pytest.raises(ValueError, match="sample_model must be 'ema' or 'orig'"):
        build_model().release_training_modules('both')
