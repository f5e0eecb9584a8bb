"""Run an exported ONNX graph with ONNX Runtime or OpenVINO: one small runner class per backend.

Both take and return numpy arrays by input/output name, so the code around the graphs does not
depend on the backend. A missing package raises :class:`BackendUnavailableError` naming the extra
that installs it (``pip install mmipose[deploy]``).
"""
import os
from typing import Dict, List, Optional

import numpy as np

BACKENDS = ('pytorch', 'onnxruntime', 'openvino')
#: precision of the graph backends: ONNX Runtime runs the fp32 graph as is; OpenVINO may run it in
#: bf16 (``INFERENCE_PRECISION_HINT``) where the processor has native bf16
GRAPH_PRECISIONS = {'onnxruntime': ('fp32', ), 'openvino': ('fp32', 'bf16')}
DEPLOY_EXTRA = 'pip install mmipose[deploy]'


class BackendUnavailableError(ImportError):
    """The package of an inference backend is not installed (or lacks the asked device)."""


def check_backend(backend: str, precision: str = 'fp32', device: str = 'cpu') -> None:
    """Raise a clear error when ``backend`` cannot run here with ``precision`` on ``device``.

    Args:
        backend (str): 'onnxruntime' or 'openvino'.
        precision (str): 'fp32' or (OpenVINO) 'bf16'.
        device (str): 'cpu' or 'cuda' (ONNX Runtime's CUDA provider; OpenVINO runs on the CPU here).
    """
    if backend not in GRAPH_PRECISIONS:
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    if precision not in GRAPH_PRECISIONS[backend]:
        raise ValueError(f'backend {backend!r} runs precision {GRAPH_PRECISIONS[backend]}, got {precision!r}')
    if backend == 'onnxruntime':
        try:
            import onnxruntime
        except ImportError as error:
            raise BackendUnavailableError(f"backend 'onnxruntime' needs the onnxruntime package: {DEPLOY_EXTRA} "
                                          f'(onnxruntime-gpu for --device cuda)') from error
        if device.startswith('cuda') and 'CUDAExecutionProvider' not in onnxruntime.get_available_providers():
            raise BackendUnavailableError(
                "backend 'onnxruntime' on device 'cuda' needs onnxruntime-gpu (CUDAExecutionProvider); this "
                f'onnxruntime {onnxruntime.__version__} has {onnxruntime.get_available_providers()}')
        return
    try:
        import openvino
    except ImportError as error:
        raise BackendUnavailableError(f"backend 'openvino' needs the openvino package: {DEPLOY_EXTRA}") from error
    if not device.startswith('cpu'):
        raise ValueError(f"backend 'openvino' runs on the CPU here, got device {device!r}")
    if precision == 'bf16':
        capabilities = openvino.Core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES')
        if 'BF16' not in capabilities:
            raise ValueError(f"backend 'openvino' with precision 'bf16' needs a CPU with native bf16; this one "
                             f'offers {capabilities}')


def max_backend_opset(backend: str) -> int:
    """The newest ONNX opset (default domain) the installed ``backend`` runs.

    ONNX Runtime states it in its build info; OpenVINO's ONNX frontend is probed with a one-node
    model per opset (fast). Falls back to the installed ``onnx``'s newest opset.
    """
    from onnx.defs import onnx_opset_version
    newest = onnx_opset_version()
    for opset in range(newest, 6, -1):
        if _backend_loads(backend, _identity_model(opset)):
            return opset
    return 0


def _identity_model(opset: int) -> bytes:
    from onnx import TensorProto, helper
    node = helper.make_node('Identity', ['x'], ['y'])
    graph = helper.make_graph([node], 'probe', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])
    model.ir_version = min(model.ir_version, 10)
    return model.SerializeToString()


def _backend_loads(backend: str, model: bytes) -> bool:
    try:
        if backend == 'onnxruntime':
            import onnxruntime
            onnxruntime.InferenceSession(model, providers=['CPUExecutionProvider'])
        else:
            import openvino
            core = openvino.Core()
            core.compile_model(core.read_model(model=model), 'CPU')
    except Exception:  # noqa: BLE001 - any failure means "cannot run this opset"
        return False
    return True


def check_opset(opset: int, backends: List[str]) -> None:
    """Raise a ValueError when one of ``backends`` cannot run graphs of ``opset``."""
    for backend in backends:
        if not _backend_loads(backend, _identity_model(opset)):
            raise ValueError(f'opset {opset} is not supported by backend {backend!r} (it runs opsets up to '
                             f'{max_backend_opset(backend)}); export with a lower --opset')


class GraphRunner:
    """One exported graph on one backend.

    Args:
        path (str): the ``.onnx`` file.
        backend (str): 'onnxruntime' or 'openvino'.
        precision (str): 'fp32', or 'bf16' (OpenVINO).
        device (str): 'cpu' or 'cuda' (ONNX Runtime's CUDA provider).
        threads (int, optional): intra-op threads (default: what ``torch.get_num_threads()`` says).
    """

    def __init__(self,
                 path: str,
                 backend: str,
                 precision: str = 'fp32',
                 device: str = 'cpu',
                 threads: Optional[int] = None) -> None:
        check_backend(backend, precision, device)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'exported graph {path} does not exist (run tools/deployment/export_onnx.py)')
        if threads is None:
            import torch
            threads = torch.get_num_threads()
        self.path, self.backend, self.precision, self.device = path, backend, precision, device
        if backend == 'onnxruntime':
            import onnxruntime
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            providers = (['CUDAExecutionProvider', 'CPUExecutionProvider']
                         if device.startswith('cuda') else ['CPUExecutionProvider'])
            self._session = onnxruntime.InferenceSession(path, options, providers=providers)
            self.input_names = [i.name for i in self._session.get_inputs()]
            self.output_names = [o.name for o in self._session.get_outputs()]
        else:
            import openvino
            core = openvino.Core()
            config = {
                'INFERENCE_PRECISION_HINT': 'bf16' if precision == 'bf16' else 'f32',
                'INFERENCE_NUM_THREADS': int(threads),
                'PERFORMANCE_HINT': 'LATENCY'
            }
            self._compiled = core.compile_model(core.read_model(path), 'CPU', config)
            self.input_names = [i.get_any_name() for i in self._compiled.inputs]
            self.output_names = [o.get_any_name() for o in self._compiled.outputs]
            self._request = self._compiled.create_infer_request()

    def __call__(self, inputs: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """Run the graph: ``{input name: array}`` -> outputs in the graph's order."""
        missing = set(self.input_names) - set(inputs)
        if missing:
            raise ValueError(f'{self.path}: inputs {sorted(missing)} missing (graph inputs {self.input_names})')
        feed = {name: np.ascontiguousarray(inputs[name]) for name in self.input_names}
        if self.backend == 'onnxruntime':
            return self._session.run(self.output_names, feed)
        results = self._request.infer(feed)
        return [np.asarray(results[output]) for output in self._compiled.outputs]
