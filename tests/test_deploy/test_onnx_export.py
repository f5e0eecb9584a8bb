"""ONNX export of the sampling path: parity with eager fp32 (toy and full-width Cityscapes), errors."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from deploy_models import CITYSCAPES_CONFIG, build_model, write_toy_config
from torch.nn.utils import spectral_norm

from mmipose.deploy.export_modules import fold_spectral_norms
from mmipose.deploy.onnx_backends import BackendUnavailableError, GraphRunner, check_backend
from mmipose.deploy.onnx_export import (FP32_TOLERANCE, GRAPH_FILES, _eager_scene, export_from_config,
                                        export_sampling_graphs)


def test_folded_spectral_norm_is_weight_over_the_stored_sigma():
    torch.manual_seed(0)
    conv = spectral_norm(nn.Conv2d(4, 6, 3, padding=1))
    conv.train()
    for _ in range(3):  # a few power iterations
        conv(torch.randn(1, 4, 5, 5))
    conv.eval()
    u, v, w = conv.weight_u.clone(), conv.weight_v.clone(), conv.weight_orig.detach().clone()
    sigma = torch.dot(u, w.flatten(1) @ v)  # the straightforward definition
    x = torch.randn(2, 4, 7, 7)
    with torch.no_grad():
        eager = conv(x)
    assert fold_spectral_norms(conv) == 1
    assert not hasattr(conv, 'weight_orig') and isinstance(conv.weight, nn.Parameter)
    torch.testing.assert_close(conv.weight, w / sigma)
    torch.testing.assert_close(conv(x), eager, rtol=0, atol=1e-6)


def test_toy_export_matches_eager_on_both_backends_at_two_sizes(toy_model, toy_export):
    out, manifest = toy_export
    for name in GRAPH_FILES.values():
        assert osp.isfile(osp.join(out, name))
    with open(osp.join(out, 'deploy.json')) as f:
        assert json.load(f)['num_classes'] == 10
    body = toy_model.generator_ema.module.body  # conv_p, conv_0, conv_1 per block; conv_s where fin != fout
    assert manifest['folded_spectral_norms'] == 3 * len(body) + sum(b.learned_shortcut for b in body)
    for backend in ('onnxruntime', 'openvino'):
        for size in ('64x128', '128x256'):
            diffs = manifest['parity'][backend][size]
            assert diffs['image_max_abs'] <= FP32_TOLERANCE
            assert diffs['part_logits_max_abs'] <= FP32_TOLERANCE
            assert diffs['part_features_max_abs'] <= FP32_TOLERANCE
            assert diffs['part_map_mismatches'] == 0 and diffs['num_objects'] == 8


def test_toy_generator_graph_takes_another_size_and_batch(toy_model, toy_export):
    """An independent run: batch 2 at 96x160 through onnxruntime against the eager generator."""
    out, _ = toy_export
    scene = _eager_scene(toy_model, toy_model.cfg.object_part_categories, (96, 160), seed=3)
    inputs = [torch.cat([t, t.flip(-1)]) for t in scene['generator_inputs']]
    with torch.no_grad():
        eager = toy_model.generator_ema.module(*inputs[:3], z=inputs[3], z_part=inputs[4])
    assert 0.05 < eager.abs().mean() < 0.95  # not saturated: the comparison means something
    runner = GraphRunner(osp.join(out, 'generator.onnx'), 'onnxruntime')
    image, = runner({n: t.numpy() for n, t in zip(runner.input_names, inputs)})
    assert np.abs(image - eager.numpy()).max() <= FP32_TOLERANCE


def test_full_width_cityscapes_export_matches_eager(tmp_path):
    model = build_model(CITYSCAPES_CONFIG)
    manifest = export_sampling_graphs(
        model,
        str(tmp_path),
        model.cfg.object_part_categories, (64, 128),
        parity_backends=['onnxruntime', 'openvino'],
        check_double_size=False)
    assert manifest['num_classes'] == 35 and manifest['part_feature_channels'] == 288
    for backend in ('onnxruntime', 'openvino'):
        diffs = manifest['parity'][backend]['64x128']
        assert max(v for k, v in diffs.items() if k.endswith('max_abs')) <= FP32_TOLERANCE
        assert diffs['part_map_mismatches'] == 0 and diffs['num_objects'] >= 8


def test_bad_export_arguments_fail_before_any_work(toy_model, tmp_path):
    parts = toy_model.cfg.object_part_categories
    with pytest.raises(ValueError, match='multiples of 32'):
        export_sampling_graphs(toy_model, str(tmp_path), parts, (60, 128))
    with pytest.raises(ValueError, match='opset 99'):
        export_sampling_graphs(toy_model, str(tmp_path), parts, (64, 128), opset=99)
    assert not list(tmp_path.iterdir())


def test_checkpoint_that_does_not_match_the_config_is_a_clear_error(toy_model, tmp_path):
    state = {k: v for k, v in toy_model.state_dict().items() if not k.startswith('generator_ema.module.fc.')}
    checkpoint = str(tmp_path / 'partial.pth')
    torch.save(dict(state_dict=state), checkpoint)
    config = write_toy_config(str(tmp_path / 'toy.py'))
    with pytest.raises(ValueError, match='does not match the sampling model'):
        export_from_config(str(config), checkpoint, str(tmp_path / 'out'))


def test_missing_backend_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    monkeypatch.setitem(sys.modules, 'openvino', None)
    for backend in ('onnxruntime', 'openvino'):
        with pytest.raises(BackendUnavailableError, match=r'pip install mmipose\[deploy\]'):
            check_backend(backend)


def test_cuda_device_without_the_cuda_provider_is_a_clear_error():
    import onnxruntime
    if 'CUDAExecutionProvider' in onnxruntime.get_available_providers():
        pytest.skip('this onnxruntime has the CUDA provider')
    with pytest.raises(BackendUnavailableError, match='onnxruntime-gpu'):
        check_backend('onnxruntime', device='cuda')


def test_export_tool_writes_the_graphs_and_reports_the_parity(toy_model, tmp_path, capsys):
    from mmipose.deploy.export_cli import main as export_main
    config = write_toy_config(str(tmp_path / 'toy.py'))
    checkpoint = str(tmp_path / 'toy.pth')
    torch.save(dict(state_dict=toy_model.state_dict()), checkpoint)
    manifest = export_main([config, checkpoint, '--out-dir', str(tmp_path / 'onnx'), '--backends', 'onnxruntime'])
    assert set(manifest['parity']['onnxruntime']) == {'64x128', '128x256'}
    assert 'onnxruntime 64x128: support_encoding_max_abs' in capsys.readouterr().out
    for name in GRAPH_FILES.values():
        assert (tmp_path / 'onnx' / name).is_file()
