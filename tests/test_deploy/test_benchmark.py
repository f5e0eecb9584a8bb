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


def test_device_check_compares_onnxruntime_with_eager_and_names_the_gpu_package():
    from deploy_models import TOY_CONFIG

    from mmipose.deploy.device_check import check_device
    from mmipose.deploy.onnx_backends import BackendUnavailableError
    report = check_device(TOY_CONFIG, 'cpu', objects=4, repeats=1)
    assert report['image_size'] == [64, 128] and report['objects'] == 4
    assert report['image_max_abs_grey_levels'] <= 1 and report['part_pixels_differing'] <= 1e-3
    assert report['eager_fp32_s'] > 0 and report['onnxruntime_s'] > 0
    import onnxruntime
    if 'CUDAExecutionProvider' not in onnxruntime.get_available_providers():
        with pytest.raises(BackendUnavailableError, match='onnxruntime-gpu'):
            check_device(TOY_CONFIG, 'cuda')


def test_startup_cases_build_the_user_path_and_fill_then_reuse_the_cache(tmp_path, monkeypatch):
    import os

    from deploy_models import TOY_CONFIG

    from mmipose.deploy import export_cache
    from mmipose.deploy.startup import prepare_model, run_case
    monkeypatch.setenv(export_cache.CACHE_ENV, str(tmp_path / 'unused'))  # run_case sets its own; restored after
    config, checkpoint, size = prepare_model(TOY_CONFIG, str(tmp_path))
    assert size == [64, 128]
    cache = str(tmp_path / 'cache')
    cold = run_case('openvino-cold', config, checkpoint, cache, 1, 4, size)
    folders = os.listdir(os.path.join(cache, 'onnx'))
    monkeypatch.setattr(export_cache, 'export_sampling_graphs', _no_export)
    warm = run_case('openvino-warm', config, checkpoint, cache, 1, 4, size)
    eager = run_case('pytorch', config, checkpoint, cache, 1, 4, size)
    assert (cold['backend'], warm['backend'], eager['backend']) == ('openvino', 'openvino', 'pytorch')
    assert len(folders) == 1 and os.listdir(os.path.join(cache, 'onnx')) == folders
    for result in (cold, warm, eager):
        assert result['to_first_image_s'] == pytest.approx(result['ready_s'] + result['first_image_s'])
        assert result['peak_rss_gb'] > 0


def _no_export(*args, **kwargs):
    raise AssertionError('the warm case exported although the cache holds the graphs')
