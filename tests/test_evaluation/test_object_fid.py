import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmagic.structures import DataSample

from mmipose.registry import METRICS
from mmipose.testing.tiny_inception import frechet_distance, reference_features, save_tiny_inception


def _reference_crop(img: np.ndarray, row, size: int) -> np.ndarray:
    """Straightforward crop rule: box, aspect restore (bilinear), centred zero pad, nearest."""
    _, _, hs, he, ws, we, h0, w0 = row
    crop = torch.from_numpy(img[None, :, hs:he, ws:we].copy())
    h, w = crop.shape[-2:]
    if h0 != w0:
        target = (int(h * h0 / w0), w) if h0 > w0 else (h, int(w * w0 / h0))
        crop = F.interpolate(crop, target, mode='bilinear', align_corners=False)
    hh, ww = crop.shape[-2:]
    side = max(hh, ww)
    pad_h, pad_w = (side - hh) // 2, (side - ww) // 2
    canvas = F.pad(crop, (pad_w, pad_w, pad_h, pad_h))
    return F.interpolate(canvas, (size, size), mode='nearest')[0].numpy()


def test_missing_inception_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='inception-2015-12-05.pt'):
        METRICS.build(dict(type='ObjectFID', inception_path=str(tmp_path / 'x.pt')))


def test_object_fid_matches_independent_numpy(tmp_path):
    path = save_tiny_inception(tmp_path / 'inception.pt')
    metric = METRICS.build(
        dict(type='ObjectFID', inception_path=path, sample_model='ema', crop_size=16, prefix='ObjectFID'))
    g = torch.Generator().manual_seed(1)
    objects = [
        np.array([[1, 2, 0, 6, 1, 9, 12, 12], [2, 3, 5, 12, 10, 14, 20, 10], [3, 1, 4, 8, 4, 12, 8, 16],
                  [4, 0, 3, 3, 2, 5, 4, 4]]),  # last: empty box
        np.array([[5, 4, 2, 10, 0, 16, 16, 16], [6, 5, 0, 12, 3, 7, 24, 8], [7, 6, 1, 5, 8, 16, 6, 12]]),
    ]
    samples, fakes, reals = [], [], []
    for objs in objects:
        real = torch.randint(0, 256, (3, 12, 16), generator=g).float()
        fake = (real * 0.5 + torch.randint(0, 120, (3, 12, 16), generator=g)).round()
        s = DataSample(gt_img=real, metainfo=dict(objects=objs))
        s.ema = DataSample(fake_img=fake)
        s.orig = DataSample(fake_img=real)  # must not be used with sample_model='ema'
        samples.append(s.to_dict())
        fakes.append(fake.numpy())
        reals.append(real.numpy())
    with torch.no_grad():
        metric.process({}, samples[:1])
        metric.process({}, samples[1:])
    result = metric.evaluate(size=2)

    fake_crops, real_crops = [], []
    for objs, fake, real in zip(objects, fakes, reals):
        for row in objs:
            if row[3] > row[2] and row[5] > row[4]:
                fake_crops.append(_reference_crop(fake, row, 16))
                real_crops.append(_reference_crop(real, row, 16))
    to_rgb_u8 = lambda x: np.stack(x)[:, ::-1].round().clip(0, 255).astype(np.uint8)  # noqa: E731
    expected = frechet_distance(reference_features(to_rgb_u8(fake_crops)), reference_features(to_rgb_u8(real_crops)))
    assert result['ObjectFID/num_objects'] == 6
    assert expected > 1e-3
    assert result['ObjectFID/fid'] == pytest.approx(expected, rel=1e-3)


def test_images_without_objects_evaluate_normally(tmp_path):
    """Scenes with K=0 objects are skipped; a set with < 2 objects reports nan with a warning."""
    metric = METRICS.build(
        dict(type='ObjectFID', inception_path=save_tiny_inception(tmp_path / 'i.pt'), crop_size=8, prefix='ObjectFID'))
    samples = []
    for objects in (np.zeros((0, 8), np.int64), np.array([[1, 24, 0, 4, 0, 4, 1, 1]])):
        s = DataSample(
            gt_img=torch.rand(3, 8, 8) * 255, fake_img=torch.rand(3, 8, 8) * 255, metainfo=dict(objects=objects))
        samples.append(s.to_dict())
    metric.process({}, samples)
    with pytest.warns(UserWarning, match='1 object'):
        result = metric.evaluate(size=2)
    assert np.isnan(result['ObjectFID/fid']) and result['ObjectFID/num_objects'] == 1
