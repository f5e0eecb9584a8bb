"""OASIS N+1 loss, LabelMix and the global GAN loss against literal per-pixel computations."""
import pytest
import torch
import torch.nn.functional as F

from mmipose.models.losses import (GlobalGANLoss, LabelMixLoss, OASISLoss, class_balance_weights, generate_labelmix,
                                   labelmix_mask)


def _onehot(label, c):
    return F.one_hot(label, c).permute(0, 3, 1, 2).float()


def test_class_balance_weights_literal():
    label = torch.tensor([[[0, 1, 1], [2, 2, 2]]])  # B=1, H=2, W=3, classes 0(dont care),1,2
    w = class_balance_weights(_onehot(label, 4), contain_dontcare_label=True)
    # present (non-dont-care) classes: 1 (2 px), 2 (3 px) -> K=2, BHW=6
    expected = torch.tensor([[[0, 6 / (2 * 2), 6 / (2 * 2)], [6 / (2 * 3)] * 3]])
    assert torch.allclose(w, expected)
    w_all = class_balance_weights(_onehot(label, 4), contain_dontcare_label=False)
    assert torch.allclose(w_all[0, 0, 0], torch.tensor(6 / (3 * 1)))


def test_oasis_loss_matches_per_pixel_loop():
    torch.manual_seed(0)
    b, c, h, w = 2, 4, 3, 5
    label = torch.randint(0, c, (b, h, w))
    onehot = _onehot(label, c)
    logits = torch.randn(b, c + 1, h, w)
    loss_fn = OASISLoss(contain_dontcare_label=True)
    weights = class_balance_weights(onehot)
    real_total, fake_total = 0.0, 0.0
    for i in range(b):
        for y in range(h):
            for x in range(w):
                logp = torch.log_softmax(logits[i, :, y, x], 0)
                real_total += -logp[label[i, y, x] + 1] * weights[i, y, x]
                fake_total += -logp[0]
    n = b * h * w
    assert torch.allclose(loss_fn(logits, onehot, for_real=True), real_total / n, atol=1e-6)
    assert torch.allclose(loss_fn(logits, onehot, for_real=False), fake_total / n, atol=1e-6)
    with pytest.raises(ValueError, match='C\\+1'):
        loss_fn(logits[:, :c], onehot, for_real=True)


def _reference_labelmix_mask(onehot, generator=None):
    """The reference's procedure: argmax, then for each present class in ascending order, set
    the pixels currently equal to it to one CPU coin ``randint(0, 2, (1,))``, in place."""
    target = torch.argmax(onehot, dim=1, keepdim=True)
    for cls in torch.unique(target):
        target[target == cls] = torch.randint(0, 2, (1, ), generator=generator)
    return target.float()


@pytest.mark.parametrize(
    'label',
    [
        torch.tensor([[[0, 0, 1], [2, 3, 1]]]),  # classes 0 and 1 present: they can merge
        torch.tensor([[[0, 0, 5], [3, 3, 6]], [[6, 1, 1], [0, 5, 5]]]),  # absent ids in between
        torch.tensor([[[4, 2, 2], [6, 4, 2]]]),  # no class 0 or 1
    ])
def test_labelmix_mask_equals_the_reference_with_the_same_seed(label):
    onehot = _onehot(label, 7)
    for seed in range(30):
        mask = labelmix_mask(onehot, generator=torch.Generator().manual_seed(seed))
        expected = _reference_labelmix_mask(onehot, torch.Generator().manual_seed(seed))
        assert torch.equal(mask, expected), seed
        torch.manual_seed(seed)  # the reference uses torch's global RNG
        global_mask = labelmix_mask(onehot)
        torch.manual_seed(seed)
        assert torch.equal(global_mask, _reference_labelmix_mask(onehot)), seed


def test_generate_labelmix_and_loss():
    torch.manual_seed(1)
    label = torch.randint(0, 3, (2, 4, 4))
    onehot = _onehot(label, 3)
    fake, real = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    mixed, mask = generate_labelmix(onehot, fake, real)
    assert torch.equal(mixed, mask * real + (1 - mask) * fake)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    seg_fake, seg_real, seg_mixed = (torch.randn(2, 4, 4, 4) for _ in range(3))
    expected = ((mask * seg_real + (1 - mask) * seg_fake - seg_mixed)**2).mean()
    assert torch.allclose(LabelMixLoss()(mask, seg_mixed, seg_fake, seg_real), expected)


def test_global_gan_loss_hinge_and_log():
    x = torch.tensor([[-2.0, 0.5], [1.5, 0.0]]).view(1, 1, 2, 2)
    hinge = GlobalGANLoss('hinge')
    assert torch.isclose(hinge(x, True, True), torch.tensor((3 + 0.5 + 0 + 1) / 4))
    assert torch.isclose(hinge(x, False, True), torch.tensor((0 + 1.5 + 2.5 + 1) / 4))
    assert torch.isclose(hinge(x, True, False), -x.mean())
    log = GlobalGANLoss('log', loss_weight=2.0)
    sig = torch.sigmoid(x)
    assert torch.isclose(log(x, True, True), -2 * torch.log(sig).mean(), atol=1e-6)
    assert torch.isclose(log(x, False, True), -2 * torch.log(1 - sig).mean(), atol=1e-6)
    with pytest.raises(ValueError):
        hinge(x, False, False)
    with pytest.raises(ValueError, match="loss_type must be one of"):
        GlobalGANLoss('wasserstein')


@pytest.mark.parametrize('loss_type', ['hinge', 'vanilla'])
def test_global_gan_loss_equals_mmagic_gan_loss(loss_type):
    """Weight 1: identical to MMagic's GANLoss; weight w: w times it for D and G alike."""
    from mmagic.models.losses import GANLoss
    x = torch.randn(3, 1, 4, 8, generator=torch.Generator().manual_seed(0))
    ref = GANLoss(loss_type)
    for weight in (1.0, 0.5):
        ours = GlobalGANLoss(loss_type, loss_weight=weight)
        for real, disc in ((True, True), (False, True), (True, False)):
            assert torch.allclose(ours(x, real, disc), weight * ref(x, real, is_disc=disc))
    # the generator term in the straightforward formula
    expected = -x.mean() if loss_type == 'hinge' else F.softplus(-x).mean()
    assert torch.allclose(GlobalGANLoss(loss_type)(x, True, False), expected)
