import numpy as np
import pytest
import torch

from mmipose.registry import METRICS
from mmipose.testing.tiny_inception import frechet_distance, reference_features, save_tiny_inception


def test_missing_inception_file_names_path_and_source(tmp_path):
    path = str(tmp_path / 'nope' / 'inception-2015-12-05.pt')
    with pytest.raises(FileNotFoundError) as err:
        METRICS.build(dict(type='IPOSEFID', fake_nums=4, inception_path=path))
    assert path in str(err.value) and 'inception-2015-12-05.pt' in str(err.value)


def test_fid_matches_independent_frechet_distance(tmp_path):
    path = save_tiny_inception(tmp_path / 'inception.pt')
    metric = METRICS.build(dict(type='IPOSEFID', fake_nums=8, inception_path=path, prefix='FID', sample_model='ema'))
    g = torch.Generator().manual_seed(0)
    real_bgr = torch.randint(0, 256, (8, 3, 8, 16), generator=g).float()
    # stays <= 247, so the uint8 cast inside forward_inception does not wrap
    fake_bgr = (real_bgr * 0.5 + torch.randint(0, 120, (8, 3, 8, 16), generator=g)).round()
    # real statistics as prepare() builds them: forward_inception on BGR gt images
    # (the runner's val/test loops run under no_grad, as here)
    with torch.no_grad():
        real_feat = metric.forward_inception(real_bgr).numpy()
        metric.real_mean, metric.real_cov = real_feat.mean(0), np.cov(real_feat, rowvar=False)
        outputs = [dict(ema=dict(fake_img=fake_bgr[i]), orig=dict(fake_img=real_bgr[i])) for i in range(8)]
        metric.process({}, outputs[:5])
        metric.process({}, outputs[5:])
    result = metric.evaluate()

    real_ref = reference_features(real_bgr.numpy()[:, ::-1].astype(np.uint8))
    fake_ref = reference_features(fake_bgr.clamp(0, 255).numpy()[:, ::-1].astype(np.uint8))
    np.testing.assert_allclose(real_feat, real_ref, rtol=1e-4, atol=1e-5)
    expected = frechet_distance(fake_ref, real_ref)
    assert expected > 1e-3
    assert result['FID/fid'] == pytest.approx(expected, rel=1e-3, abs=1e-6)
