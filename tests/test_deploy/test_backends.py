"""IPOSEInferencer and tools/synthesize.py on the exported graphs equal eager PyTorch (fp32)."""
import copy
import os

import numpy as np
import pytest
import torch
from deploy_models import write_toy_config

from mmipose.apis import IPOSEInferencer
from mmipose.apis.synthesize_cli import main as synthesize_main
from mmipose.deploy.onnx_export import parity_scene

BACKENDS = ('onnxruntime', 'openvino')


@pytest.fixture(scope='module')
def scene():
    return parity_scene(10, [6, 7, 8, 9], (64, 128), seed=1)


@pytest.fixture(scope='module')
def eager(toy_model):
    return IPOSEInferencer(toy_model, backend='pytorch')


@pytest.mark.parametrize('backend', BACKENDS)
def test_inferencer_on_a_graph_backend_equals_pytorch(toy_model, toy_export, eager, scene, backend):
    label, inst = scene
    graphs = IPOSEInferencer(toy_model, backend=backend, deploy_dir=toy_export[0])
    expected, result = eager(label, inst, seed=0), graphs(label, inst, seed=0)
    assert len(result.objects) == 8 and len(np.unique(result.parts)) > 3
    np.testing.assert_array_equal(result.parts, expected.parts)
    # fp32 graphs within 1e-4 of eager: at most one grey level after rounding to uint8
    assert np.abs(result.image.astype(int) - expected.image).max() <= 1
    assert 3 < expected.image.std() and 10 < expected.image.mean() < 245  # neither flat nor saturated
    # a region edit (spatial noise): same new noise inside the object only, same result
    value = int(result.objects[0][0])
    edited, edited_eager = graphs.resample(
        result, f'object:{value}', seed=3), eager.resample(
            expected, f'object:{value}', seed=3)
    assert torch.equal(edited.z, edited_eager.z)
    assert np.abs(edited.image.astype(int) - edited_eager.image).max() <= 1
    inside = torch.from_numpy(result.inst == value)[None, None].expand_as(result.z)
    assert torch.equal(edited.z[~inside], result.z[~inside]) and not torch.equal(edited.z[inside], result.z[inside])
    assert (edited.image != result.image).any(-1)[result.inst == value].any()
    # part editing: new supports go through the support-encoder graph
    model = copy.deepcopy(toy_model)
    graphs, eager = IPOSEInferencer(
        model, backend=backend, deploy_dir=toy_export[0]), IPOSEInferencer(
            model, backend='pytorch')
    maps = np.zeros((3, 64, 64), np.int64)
    maps[:, 16:48, 16:48] = 2
    graphs.set_supports(26, maps)  # the same support bank serves both
    after, after_eager = graphs(label, inst, seed=0), eager(label, inst, seed=0)
    np.testing.assert_array_equal(after.parts, after_eager.parts)
    assert (after.parts != result.parts).any()
    assert np.abs(after.image.astype(int) - after_eager.image).max() <= 1


def test_graph_backend_input_errors(toy_model, toy_export, scene):
    label, inst = scene
    graphs = IPOSEInferencer(toy_model, backend='onnxruntime', deploy_dir=toy_export[0])
    bad = label.copy()
    bad[0, 0] = 10
    with pytest.raises(ValueError, match='class id 10: the exported model has 10 classes'):
        graphs(bad, inst, seed=0)
    with pytest.raises(ValueError, match='multiples of 32'):
        graphs(label[:48], inst[:48], seed=0)
    with pytest.raises(ValueError, match="backend must be one of"):
        IPOSEInferencer(toy_model, backend='tensorrt')
    with pytest.raises(ValueError, match='precision'):
        IPOSEInferencer(toy_model, backend='onnxruntime', precision='bf16', deploy_dir=toy_export[0])
    with pytest.raises(FileNotFoundError, match='export the model first'):
        IPOSEInferencer(toy_model, backend='onnxruntime', deploy_dir='/nonexistent')


def test_synthesize_tool_with_a_backend_writes_the_eager_images(toy_model, toy_export, scene, tmp_path, monkeypatch):
    import cv2
    label, inst = scene
    cv2.imwrite(str(tmp_path / 'scene.png'), label.astype(np.uint8))
    cv2.imwrite(str(tmp_path / 'inst.png'), inst.astype(np.uint16))
    config = write_toy_config(str(tmp_path / 'toy.py'))
    checkpoint = str(tmp_path / 'toy.pth')
    torch.save(dict(state_dict=toy_model.state_dict()), checkpoint)
    monkeypatch.setenv('MMIPOSE_CACHE_DIR', str(tmp_path / 'cache'))
    images = {}
    for backend in ('pytorch', 'onnxruntime', 'default'):
        out = tmp_path / backend
        argv = [
            config, checkpoint,
            str(tmp_path / 'scene.png'), '--inst',
            str(tmp_path / 'inst.png'), '--out-dir',
            str(out), '--precision', 'fp32', '--no-channels-last'
        ]
        if backend != 'default':
            argv += ['--backend', backend]
        if backend == 'onnxruntime':
            argv += ['--deploy-dir', toy_export[0]]
        synthesize_main(argv)
        images[backend] = cv2.imread(str(out / 'scene.png')).astype(int)
    assert np.abs(images['onnxruntime'] - images['pytorch']).max() <= 1
    # no --backend: OpenVINO, exported once into the cache
    assert np.abs(images['default'] - images['pytorch']).max() <= 1
    assert len(os.listdir(tmp_path / 'cache' / 'onnx')) == 1
