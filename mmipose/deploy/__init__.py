"""Deployment of iPOSE sampling: ONNX export (:mod:`.onnx_export`), ONNX Runtime / OpenVINO runners
(:mod:`.onnx_backends`), the graphs behind ``IPOSEInferencer(backend=...)`` (:mod:`.graph_sampler`) and
their timing (:mod:`.benchmark`). Submodules import onnx / onnxruntime / openvino only when used."""
