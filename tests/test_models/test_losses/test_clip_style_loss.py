"""CLIPStyleLoss: block-8 tokens, REMD, object crops, frozen CLIP, weights errors (random-init CLIP)."""
import pytest
import torch
import torch.nn.functional as F

from mmipose.models.losses import CLIPStyleLoss, choose_clip_mode, crop_objects, remd_loss


@pytest.fixture(scope='module')
def clip_loss():
    torch.manual_seed(0)
    return CLIPStyleLoss(pretrained=None)


def test_tokens_equal_a_hook_on_block_8_of_the_full_forward(clip_loss):
    img = torch.rand(1, 3, 64, 96) * 2 - 1
    captured = {}
    handle = clip_loss.visual.transformer.resblocks[8].register_forward_hook(
        lambda m, i, o: captured.setdefault('out', o))
    x = F.interpolate((img + 1) / 2, (224, 224), mode='bilinear', align_corners=False)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    with torch.no_grad():
        clip_loss.visual((x - mean) / std)  # full 12-block forward
    handle.remove()
    out = captured['out']
    if out.shape[0] != 1:  # sequence-first transformer
        out = out.transpose(0, 1)
    with torch.no_grad():
        tokens = clip_loss.tokens(img)
    assert tokens.shape == (1, 49, 768)
    assert torch.allclose(tokens, out[:, 1:], atol=1e-5)


def test_remd_matches_double_loop():
    torch.manual_seed(0)
    f, r = torch.randn(2, 5, 7), torch.randn(2, 6, 7)
    total = 0.0
    for b in range(2):
        fn = f[b] / f[b].norm(dim=1, keepdim=True)
        rn = r[b] / r[b].norm(dim=1, keepdim=True)
        cost = [[1 - float(fn[i] @ rn[j]) for j in range(6)] for i in range(5)]
        m1 = sum(min(row) for row in cost) / 5
        m2 = sum(min(cost[i][j] for i in range(5)) for j in range(6)) / 6
        total += max(m1, m2)
    assert abs(float(remd_loss(f, r)) - total / 2) < 1e-5


def test_crop_objects_literal():
    img = torch.arange(2 * 3 * 20 * 24, dtype=torch.float).view(2, 3, 20, 24)
    objects = [torch.tensor([[7, 26, 2, 12, 3, 7, 1, 1]]),
               torch.tensor([[1, 24, 0, 4, 0, 10, 100, 50]])]  # H0 > W0: height restored x2
    crops, = crop_objects([img], objects, [(0, 0), (1, 0)], size=16)
    # object 0: 10x4 box -> pad width by 3 each side -> 10x10 -> nearest 16x16
    literal = F.pad(img[0:1, :, 2:12, 3:7], (3, 3, 0, 0))
    assert torch.equal(crops[0], F.interpolate(literal, (16, 16), mode='nearest')[0])
    # object 1: 4x10 box, restored to 8x10 (bilinear), pad height by 1 each side
    literal = F.interpolate(img[1:2, :, 0:4, 0:10], (8, 10), mode='bilinear', align_corners=False)
    literal = F.pad(literal, (0, 0, 1, 1))
    assert torch.equal(crops[1], F.interpolate(literal, (16, 16), mode='nearest')[0])


def test_frozen_clip_grads_only_to_fake_and_object_mode(clip_loss):
    fake = (torch.rand(2, 3, 32, 64) * 2 - 1).requires_grad_()
    real = torch.rand(2, 3, 32, 64) * 2 - 1
    loss = clip_loss(fake, real, mode='whole')
    loss.backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in clip_loss.parameters())
    objects = [torch.tensor([[3, 26, 4, 20, 8, 40, 1, 1]]), torch.zeros(0, 8, dtype=torch.long)]
    assert float(clip_loss(fake, real, objects, mode='objects')) > 0
    empty = clip_loss(fake, real, [torch.zeros(0, 8)] * 2, mode='objects')
    assert float(empty) == 0 and empty.requires_grad
    assert float(clip_loss(real, real, mode='whole')) == pytest.approx(0, abs=1e-5)


def test_mode_choice_is_a_function_of_step_and_seed():
    modes = [choose_clip_mode(step, seed=3) for step in range(200)]
    assert modes == [choose_clip_mode(step, seed=3) for step in range(200)]
    assert 60 < modes.count('whole') < 140


def test_missing_weights_file_names_it(tmp_path):
    missing = str(tmp_path / 'ViT-B-32.pt')
    with pytest.raises(FileNotFoundError, match='ViT-B-32.pt'):
        CLIPStyleLoss(pretrained=missing)


def test_vision_width_narrows_the_visual_tower_only_without_weights():
    narrow = CLIPStyleLoss(vision_width=64)
    assert narrow.visual.transformer.width == 64 and len(narrow.visual.transformer.resblocks) == 12
    tokens = narrow.tokens(torch.zeros(2, 3, 32, 32))
    assert tokens.shape == (2, 49, 64)  # 7x7 patches of the 224 input, CLS dropped
    with pytest.raises(ValueError, match='vision_width must be a multiple of 64'):
        CLIPStyleLoss(vision_width=96)
    with pytest.raises(ValueError, match="pretrained='clip.pt'"):
        CLIPStyleLoss(pretrained='clip.pt', vision_width=64)


@pytest.mark.parametrize('version', ['2.20.0', '2.31.0'])
def test_too_old_open_clip_is_named_at_build_time(monkeypatch, version):
    import open_clip
    monkeypatch.setattr(open_clip, '__version__', version)
    with pytest.raises(ImportError, match=rf'open_clip_torch>=2\.32\.0, found {version}'):
        CLIPStyleLoss()


def test_minimum_open_clip_version_matches_setup_cfg():
    import os.path as osp

    from mmipose.models.losses.clip_style_loss import MIN_OPEN_CLIP
    setup_cfg = osp.join(osp.dirname(__file__), '..', '..', '..', 'setup.cfg')
    with open(setup_cfg) as f:
        assert f'open_clip_torch>={MIN_OPEN_CLIP}\n' in f.read()
