"""IPOSEInferencer with small stand-in networks inside the real IPOSE model.

The stand-in generator is pixel-local (1x1 convolutions of one-hot and noise), so a region edit
done right leaves every pixel outside the region bit-identical. With a real (tiny) PSMGenerator,
pixels beyond the receptive-field halo of the region stay bit-identical.
"""
import numpy as np
import pytest
import torch
import torch.nn as nn
from noise_halo import calibrate_batch_norms, receptive_halo

from mmipose.apis import IPOSEInferencer
from mmipose.apis.inferencer import SynthesisResult
from mmipose.models.editors.ipose import IPOSE
from mmipose.models.generators import PSMGenerator
from mmipose.models.partnet import ObjectPartInferencer

NUM_CLASSES = 4  # 0 void, 1 road, 2 car, 3 person
PART_CATEGORIES = {2: 26, 3: 24}


class _Generator(nn.Module):
    z_dim = 4
    part_nc = 4  # part noise has part_nc - 1 channels, like PSMGenerator

    @staticmethod
    def latent_size(size):
        return size[0] // 4, size[1] // 4

    def __init__(self):
        super().__init__()
        self.label_conv = nn.Conv2d(NUM_CLASSES + 9, 3, 1)
        self.noise_conv = nn.Conv2d(self.z_dim, 3, 1)

    def forward(self, onehot, part_features, part_logits, z=None, z_part=None):
        b, _, h, w = onehot.shape
        if z is None:
            z = torch.randn(b, self.z_dim, device=onehot.device)
        if z.dim() == 2:
            z = z[:, :, None, None].expand(b, self.z_dim, h, w)
        assert z_part is None or z_part.shape[1:] == (3, 2, 4)
        return torch.tanh(self.label_conv(torch.cat([onehot, part_logits], 1)) + 3 * self.noise_conv(z))


class _Bank:

    def __init__(self):
        self.calls = []

    def set_supports(self, category, maps):
        self.calls.append((category, maps))


class _PartInferencer(nn.Module):
    """Part 1 on the upper half of each object box row range, part 2 below (by pixel row parity)."""

    def __init__(self):
        super().__init__()
        self.support_bank = _Bank()
        self._warned_categories = set()

    drop_unsupported_objects = ObjectPartInferencer.drop_unsupported_objects

    def forward(self, inst, objects):
        b, _, h, w = inst.shape
        rows = torch.arange(h).view(1, 1, h, 1).expand(b, 1, h, w)
        parts = torch.where(inst >= 1000, 1 + (rows >= h // 2).long(), torch.zeros_like(inst))
        logits = torch.nn.functional.one_hot(parts[:, 0], 9).permute(0, 3, 1, 2).float()
        return torch.zeros(b, 288, h, w), logits


def _inferencer(monkeypatch):
    torch.manual_seed(0)
    model = IPOSE(
        generator=_Generator(),
        discriminator=nn.Identity(),
        part_inferencer=_PartInferencer(),
        num_classes=NUM_CLASSES,
        loss_config=dict(nplus1_loss=nn.Identity()))
    return IPOSEInferencer(model, part_categories=PART_CATEGORIES, backend='pytorch')


def _label():
    label = np.ones((8, 16), np.int64)
    label[1:5, 1:6] = 2
    label[2:7, 9:14] = 2
    label[5:8, 6:8] = 3
    return label


def test_without_instance_map_components_are_objects(monkeypatch):
    inferencer = _inferencer(monkeypatch)
    result = inferencer(_label(), seed=0)
    # two separate car blobs and one person: three objects, Cityscapes-style values
    assert sorted(result.objects[:, 0].tolist()) == [2001, 2002, 3001]
    assert (result.inst[_label() == 1] == 0).all()


def test_synthesis_outputs_and_seeds(monkeypatch):
    inferencer = _inferencer(monkeypatch)
    result = inferencer(_label(), seed=0)
    assert isinstance(result, SynthesisResult)
    assert result.image.shape == (8, 16, 3) and result.image.dtype == np.uint8
    assert result.parts.shape == (8, 16) and set(np.unique(result.parts)) <= {0, 1, 2}
    assert len(result.objects) == 3 and result.z.shape == (1, 4, 8, 16) and result.z_part.shape == (1, 3, 2, 4)
    np.testing.assert_array_equal(inferencer(_label(), seed=0).image, result.image)
    assert not np.array_equal(inferencer(_label(), seed=1).image, result.image)


def test_region_resampling_changes_only_the_region(monkeypatch):
    inferencer = _inferencer(monkeypatch)
    result = inferencer(_label(), seed=0)
    car = int(result.objects[0, 0])
    for region in (f'object:{car}', f'part:{car}:2'):
        edited = inferencer.resample(result, region, seed=5)
        mask = (result.inst == car) if region.startswith('object') else (result.inst == car) & (result.parts == 2)
        assert torch.equal(edited.z_part, result.z_part)
        assert torch.equal(edited.z[0, :, ~torch.from_numpy(mask)], result.z[0, :, ~torch.from_numpy(mask)])
        np.testing.assert_array_equal(edited.image[~mask], result.image[~mask])
        assert (edited.image[mask] != result.image[mask]).any()
    globally = inferencer.resample(result, 'global', seed=5)
    assert (globally.image != result.image).any(axis=-1).mean() > 0.5
    with pytest.raises(ValueError, match='empty'):
        inferencer.resample(result, 'object:7777')
    with pytest.raises(ValueError, match='region must be'):
        inferencer.resample(result, 'everywhere')


def test_region_resampling_with_a_psm_generator_stays_within_the_halo():
    """A real (tiny) PSMGenerator: the car's pixels change, pixels beyond the halo do not."""
    torch.manual_seed(0)
    generator = PSMGenerator(semantic_nc=NUM_CLASSES, channels_g=2, spade_hidden_nc=8, init_gain=1.0)
    model = IPOSE(
        generator=generator,
        discriminator=nn.Identity(),
        part_inferencer=_PartInferencer(),
        num_classes=NUM_CLASSES,
        loss_config=dict(nplus1_loss=nn.Identity()))
    label = np.ones((64, 128), np.int64)
    label[49:57, 113:121] = 2  # the car to edit
    label[10:30, 5:40] = 3  # a person far away
    onehot = torch.from_numpy(np.eye(NUM_CLASSES, dtype=np.float32)[label]).permute(2, 0, 1)[None]
    feats, logits = _PartInferencer()(torch.from_numpy(label)[None, None] * 1000, [None])
    calibrate_batch_norms(generator, onehot, feats, logits)
    inferencer = IPOSEInferencer(model, part_categories=PART_CATEGORIES, backend='pytorch')
    result = inferencer(label, seed=0)
    car = int(result.inst[50, 114])
    edited = inferencer.resample(result, f'object:{car}', seed=3)
    diff = np.abs(edited.image.astype(int) - result.image.astype(int)).max(-1)
    halo = receptive_halo(range(49, 57), range(113, 121))
    assert (diff[49:57, 113:121] > 0).mean() > 0.5
    np.testing.assert_array_equal(diff[:, :113 - halo], 0)
    assert diff[49:57, 113:121].mean() > 5 * diff[:, :113].mean()


def test_set_supports_goes_to_the_support_bank(monkeypatch):
    inferencer = _inferencer(monkeypatch)
    maps = np.zeros((3, 64, 64), np.int64)
    inferencer.set_supports(26, maps)
    category, tensor = inferencer.support_bank.calls[0]
    assert category == 26 and tensor.shape == (3, 64, 64) and tensor.dtype == torch.long
