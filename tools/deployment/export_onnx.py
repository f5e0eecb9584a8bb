"""Export the sampling path of a trained iPOSE model as ONNX graphs (support encoder, PartNet, generator).

Writes ``support_encoder.onnx``, ``partnet.onnx``, ``generator.onnx`` and ``deploy.json`` to --out-dir and
fails when the graphs differ from the eager fp32 model beyond 1e-4 max abs (images, part features, part
logits; part maps equal where the top-2 logits are clearly apart), at --image-size and at twice it.
See docs/deployment.md.

Example:
    python tools/deployment/export_onnx.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py \\
        work_dirs/ipose/iter_372000.pth --out-dir work_dirs/onnx --image-size 256 512
"""
from mmipose.deploy.export_cli import main

if __name__ == '__main__':
    main()
