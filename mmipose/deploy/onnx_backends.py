"""Run an exported ONNX graph with ONNX Runtime or OpenVINO: one small runner class per backend.

Both take and return numpy arrays by input/output name, so the code around the graphs does not
depend on the backend. A missing package raises :class:`BackendUnavailableError` naming the extra
that installs it (``pip install mmipose[deploy]``).
"""
import os
from typing import Dict, List, Optional

import numpy as np

BACKENDS = ('auto', 'pytorch', 'onnxruntime', 'openvino')
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


def resolve_backend(backend: str, device: str = 'cpu', precision: str = 'fp32') -> str:
    """The backend ``'auto'`` stands for: the fastest one installed for ``device`` and ``precision``.

    OpenVINO on a CPU when its package imports and runs ``precision`` there (``'fp32'``, or
    ``'bf16'`` with native bf16); eager PyTorch otherwise (on a GPU, where no graph backend has been
    measured faster, and for precisions OpenVINO does not run). Any other name is returned as is.
    """
    if backend != 'auto':
        return backend
    if not str(device).startswith('cpu') or precision not in GRAPH_PRECISIONS['openvino']:
        return 'pytorch'
    try:
        check_backend('openvino', precision, 'cpu')
    except (ImportError, ValueError):
        return 'pytorch'
    return 'openvino'


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
        static_shapes (bool): OpenVINO only: compile the graph for each new set of input shapes
            (reshaped to them, at most :attr:`MAX_STATIC_SHAPES` kept) instead of once with dynamic
            shapes. A static graph plans its activation memory ahead, which lowers the peak memory of
            the full-size generator; each new shape costs one compilation.
    """

    MAX_STATIC_SHAPES = 4

    def __init__(self,
                 path: str,
                 backend: str,
                 precision: str = 'fp32',
                 device: str = 'cpu',
                 threads: Optional[int] = None,
                 static_shapes: bool = False) -> None:
        check_backend(backend, precision, device)
        if not os.path.isfile(path):
            raise FileNotFoundError(f'exported graph {path} does not exist (run tools/deployment/export_onnx.py)')
        if threads is None:
            import torch
            threads = torch.get_num_threads()
        self.path, self.backend, self.precision, self.device = path, backend, precision, device
        self.static_shapes = static_shapes and backend == 'openvino'
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
            self._core = openvino.Core()
            self._config = {
                'INFERENCE_PRECISION_HINT': 'bf16' if precision == 'bf16' else 'f32',
                'INFERENCE_NUM_THREADS': int(threads),
                'PERFORMANCE_HINT': 'LATENCY'
            }
            self._model = self._core.read_model(path)
            self.input_names = [i.get_any_name() for i in self._model.inputs]
            self.output_names = [o.get_any_name() for o in self._model.outputs]
            self._requests: Dict[tuple, object] = {}  # input shapes (or None: dynamic) -> infer request
            if not self.static_shapes:
                self._requests[None] = self._compile(self._model)

    def _compile(self, model):
        return self._core.compile_model(model, 'CPU', self._config).create_infer_request()

    def _openvino_request(self, feed: Dict[str, np.ndarray]):
        """The infer request for these inputs (compiled for their shapes first when static)."""
        if not self.static_shapes:
            return self._requests[None]
        key = tuple(feed[name].shape for name in self.input_names)
        request = self._requests.pop(key, None)
        if request is None:
            import openvino
            if len(self._requests) >= self.MAX_STATIC_SHAPES:
                self._requests.pop(next(iter(self._requests)))  # the least recently used shape
            model = self._model.clone()
            model.reshape({name: openvino.PartialShape(list(shape)) for name, shape in zip(self.input_names, key)})
            request = self._compile(model)
        self._requests[key] = request  # most recently used last
        return request

    def __call__(self, inputs: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """Run the graph: ``{input name: array}`` -> outputs in the graph's order."""
        missing = set(self.input_names) - set(inputs)
        if missing:
            raise ValueError(f'{self.path}: inputs {sorted(missing)} missing (graph inputs {self.input_names})')
        feed = {name: np.ascontiguousarray(inputs[name]) for name in self.input_names}
        if self.backend == 'onnxruntime':
            return self._session.run(self.output_names, feed)
        request = self._openvino_request(feed)
        results = request.infer(feed)
        return [np.asarray(results[output]) for output in request.model_outputs]
