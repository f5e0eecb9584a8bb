"""Fixtures of the deployment tests: the toy model and its export, built once per session."""
import pytest
from deploy_models import TOY_CONFIG, build_model


@pytest.fixture(scope='session')
def toy_model():
    return build_model(TOY_CONFIG)


@pytest.fixture(scope='session')
def toy_export(toy_model, tmp_path_factory):
    """The toy model exported once (parity checked on both backends)."""
    from mmipose.deploy.onnx_export import export_sampling_graphs
    out = str(tmp_path_factory.mktemp('toy_onnx'))
    manifest = export_sampling_graphs(
        toy_model, out, toy_model.cfg.object_part_categories, (64, 128), parity_backends=['onnxruntime', 'openvino'])
    return out, manifest
