"""The default backend ('auto' -> OpenVINO where installed), the export cache and static-shape OpenVINO graphs."""
import os
import sys

import numpy as np
import pytest
import torch
from deploy_models import random_supports_config

from mmipose.apis import IPOSEInferencer
from mmipose.deploy import export_cache
from mmipose.deploy.onnx_backends import GraphRunner, resolve_backend
from mmipose.deploy.onnx_export import parity_scene


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(export_cache.CACHE_ENV, str(tmp_path / 'cache'))
    return tmp_path / 'cache' / 'onnx'


@pytest.fixture(scope='module')
def scene():
    return parity_scene(10, [6, 7, 8, 9], (64, 128), seed=1)


def test_auto_resolves_to_openvino_on_a_cpu_and_to_pytorch_elsewhere(monkeypatch):
    assert resolve_backend('auto', 'cpu', 'fp32') == 'openvino'
    assert resolve_backend('auto', 'cuda', 'fp32') == 'pytorch'  # no graph backend measured faster on a GPU
    assert resolve_backend('auto', 'cpu', 'fp16') == 'pytorch'  # OpenVINO does not run fp16 here
    assert resolve_backend('onnxruntime', 'cpu', 'fp32') == 'onnxruntime'
    monkeypatch.setitem(sys.modules, 'openvino', None)  # `import openvino` raises ImportError
    assert resolve_backend('auto', 'cpu', 'fp32') == 'pytorch'


def test_auto_follows_the_device_of_a_model_passed_in(toy_model):
    import copy
    elsewhere = copy.deepcopy(toy_model).to('meta')  # stands in for a model on a GPU: not the CPU
    assert IPOSEInferencer(elsewhere).backend == 'pytorch'


def test_default_inferencer_runs_openvino_from_the_export_cache(toy_model, scene, cache_dir, monkeypatch):
    label, inst = scene
    eager = IPOSEInferencer(toy_model, backend='pytorch')
    default = IPOSEInferencer(toy_model)
    assert default.backend == 'openvino' and default.precision == 'fp32'  # the toy model samples in fp32
    folders = os.listdir(cache_dir)
    assert folders == [export_cache.model_fingerprint(toy_model, default.part_categories)]
    expected, result = eager(label, inst, seed=0), default(label, inst, seed=0)
    np.testing.assert_array_equal(result.parts, expected.parts)
    assert np.abs(result.image.astype(int) - expected.image).max() <= 1
    # a second inferencer of the same weights takes the cached graphs: no export
    monkeypatch.setattr(export_cache, 'export_sampling_graphs', _no_export)
    again = IPOSEInferencer(toy_model)
    assert again.graphs.manifest == default.graphs.manifest and os.listdir(cache_dir) == folders
    assert np.array_equal(again(label, inst, seed=0).image, result.image)


def _no_export(*args, **kwargs):
    raise AssertionError('exported although the cache holds the graphs')


def test_fingerprint_follows_the_weights_not_the_support_maps(toy_model):
    import copy
    model = copy.deepcopy(toy_model)
    parts = {int(k): int(v) for k, v in model.cfg.object_part_categories.items()}
    before = export_cache.model_fingerprint(model, parts)
    maps = np.zeros((3, 64, 64), np.int64)
    model.part_inferencer.support_bank.set_supports(26, torch.from_numpy(maps))  # a graph input: same graphs
    assert export_cache.model_fingerprint(model, parts) == before
    with torch.no_grad():
        next(model.generator_ema.module.parameters()).view(-1)[0] += 1e-3
    assert export_cache.model_fingerprint(model, parts) != before
    assert export_cache.model_fingerprint(toy_model, parts, opset=16) != before


def test_a_damaged_cache_folder_is_exported_again(toy_model, cache_dir):
    parts = {int(k): int(v) for k, v in toy_model.cfg.object_part_categories.items()}
    folder = export_cache.cached_export(toy_model, parts, parity_backends=['openvino'])
    os.remove(os.path.join(folder, 'generator.onnx'))
    assert export_cache.cached_export(toy_model, parts, parity_backends=['openvino']) == folder
    assert os.path.isfile(os.path.join(folder, 'generator.onnx'))
    assert sorted(os.listdir(cache_dir)) == [os.path.basename(folder)]  # no staging folder left behind


def test_inferencer_built_from_a_config_releases_the_eager_generator(toy_model, scene, cache_dir, tmp_path):
    from deploy_models import TOY_CONFIG
    label, inst = scene
    checkpoint = str(tmp_path / 'toy.pth')
    torch.save(dict(state_dict=toy_model.state_dict()), checkpoint)
    cfg = random_supports_config(TOY_CONFIG)
    owned = IPOSEInferencer(cfg, checkpoint, backend='openvino')
    assert all(p.is_meta for p in owned.generator.parameters())  # the graphs hold the weights
    assert not any(p.is_meta for p in toy_model.parameters())  # a model passed in is left alone
    expected = IPOSEInferencer(toy_model, backend='pytorch')(label, inst, seed=0)
    result = owned(label, inst, seed=0)
    np.testing.assert_array_equal(result.parts, expected.parts)
    assert np.abs(result.image.astype(int) - expected.image).max() <= 1


def test_static_shape_generator_equals_the_dynamic_graph(toy_export):
    folder, manifest = toy_export
    path = os.path.join(folder, 'generator.onnx')
    dynamic, static = GraphRunner(path, 'openvino'), GraphRunner(path, 'openvino', static_shapes=True)
    rng = np.random.default_rng(0)
    for height, width in [(64, 128), (96, 64), (64, 128), (32, 32), (128, 64), (64, 64), (160, 32)]:
        feed = dict(
            onehot=rng.random((1, manifest['num_classes'], height, width), np.float32),
            part_features=rng.standard_normal((1, manifest['part_feature_channels'], height, width), np.float32),
            part_logits=rng.standard_normal((1, manifest['num_parts'], height, width), np.float32),
            z=rng.standard_normal((1, manifest['z_dim'], height, width), np.float32),
            z_part=rng.standard_normal((1, manifest['part_noise_channels'], height // 32, width // 32), np.float32))
        expected, = dynamic(feed)
        image, = static(feed)
        assert image.shape == (1, 3, height, width)
        np.testing.assert_allclose(image, expected, atol=1e-5)
    assert len(static._requests) == GraphRunner.MAX_STATIC_SHAPES  # the least recently used shapes were dropped
