"""mmipose.deploy.benchmark: a backend variant is timed on a scene and compared with eager fp32."""
import pytest
import torch

from mmipose.deploy.benchmark import VARIANTS, gemm_peak_gflops, make_inferencer, time_variant
from mmipose.deploy.onnx_export import parity_scene


def test_onnxruntime_variant_is_timed_and_equals_eager(toy_model, toy_export, monkeypatch):
    import mmipose.deploy.benchmark as benchmark
    label, inst = parity_scene(10, [6, 7, 8, 9], (64, 128), seed=2)
    from mmipose.apis import IPOSEInferencer
    objects = IPOSEInferencer(toy_model, backend='pytorch').objects_for(label, inst)
    # reuse the session's export instead of exporting again
    monkeypatch.setattr(
        benchmark, 'make_inferencer',
        lambda model, variant, size, device: make_inferencer(model, variant, size, device, toy_export[0]))
    result = time_variant(toy_model, 'onnxruntime', label, inst, objects, iters=2, warmup=0)
    assert result['runs'] == 2 and 0 < result['min_s'] <= result['median_s']
    assert result['max_abs_vs_eager_fp32'] <= 1 / 127.5  # one grey level at most


def test_unknown_variant_and_gemm_peak():
    assert 'onnxruntime' in VARIANTS
    with pytest.raises(ValueError, match='benchmark variant'):
        make_inferencer(None, 'tensorrt', (64, 128))
    assert gemm_peak_gflops(torch.float32, seconds=0.05, n=256) > 0
