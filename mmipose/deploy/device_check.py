"""Check the ONNX Runtime graphs against eager PyTorch on one device (the GPU check of ``check_gpu_run.sh``).

Builds a config's sampling model with random weights (:func:`~mmipose.deploy.benchmark.build_random_model`),
exports it (parity checked on the CPU), then synthesizes one scene with eager PyTorch fp32 and with
ONNX Runtime on ``--device`` (its CUDA provider for 'cuda', which needs ``onnxruntime-gpu``) and
reports the image and part-map differences and the seconds per synthesis. Exit status 1 when the
images differ by more than one grey level or the part maps differ on more than 0.1 % of the pixels.

Example::

    python -m mmipose.deploy.device_check configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py --device cuda
"""
import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from typing import Optional


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='ONNX Runtime graphs vs eager PyTorch on one device')
    parser.add_argument('config', help='IPOSE config (random weights are used)')
    parser.add_argument('--device', default='cuda', help="'cuda' (ONNX Runtime's CUDA provider) or 'cpu'")
    parser.add_argument('--image-size', type=int, nargs=2, default=None, help="H W (default: the config's)")
    parser.add_argument('--objects', type=int, default=8, help='objects in the scene')
    parser.add_argument('--repeats', type=int, default=3, help='timed syntheses per path')
    return parser.parse_args(argv)


def check_device(config: str, device: str, size: Optional[tuple] = None, objects: int = 8, repeats: int = 3) -> dict:
    """Eager fp32 vs ONNX Runtime on ``device``: differences and median seconds (see the module docstring)."""
    import numpy as np
    import torch

    from mmipose.apis import IPOSEInferencer
    from mmipose.benchmarks import ipose_speed
    from mmipose.painter.session import canvas_size

    from .benchmark import build_random_model
    from .onnx_backends import check_backend
    from .onnx_export import export_sampling_graphs
    check_backend('onnxruntime', 'fp32', device)  # onnxruntime-gpu for 'cuda': an error naming it, before any work
    model = build_random_model(config)
    size = tuple(size or canvas_size(model.cfg))
    parts = {int(k): int(v) for k, v in model.cfg.object_part_categories.items()}
    label, inst, _, _ = ipose_speed.synthetic_scene(model.num_classes, size, objects, 0)
    label, inst = label[0].numpy(), inst[0].numpy()
    folder = tempfile.mkdtemp(prefix='mmipose_device_check_')
    export_sampling_graphs(model, folder, parts, parity_backends=['onnxruntime'], check_double_size=False)
    graphs = IPOSEInferencer(model, part_categories=parts, backend='onnxruntime', device=device, deploy_dir=folder)
    eager_model = copy.deepcopy(model).to(device)  # the graph inferencer keeps the CPU model for its host code
    eager = IPOSEInferencer(
        eager_model, part_categories=parts, precision='fp32', channels_last=False, backend='pytorch')
    noise = eager.sample_noise(*size, seed=0)

    def timed(inferencer):
        result, times = None, []
        for _ in range(repeats + 1):  # the first call warms up
            start = time.perf_counter()
            result = inferencer(label, inst, noise=tuple(t.to(inferencer.device) for t in noise))
            if device.startswith('cuda'):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        return result, statistics.median(times[1:])

    expected, eager_s = timed(eager)
    result, graph_s = timed(graphs)
    return dict(
        device=device,
        image_size=list(size),
        objects=objects,
        image_max_abs_grey_levels=int(np.abs(result.image.astype(int) - expected.image).max()),
        part_pixels_differing=float((result.parts != expected.parts).mean()),
        eager_fp32_s=eager_s,
        onnxruntime_s=graph_s)


def main(argv=None) -> int:
    args = parse_args(argv)
    report = check_device(args.config, args.device, args.image_size, args.objects, args.repeats)
    print(json.dumps(report, indent=2))
    ok = report['image_max_abs_grey_levels'] <= 1 and report['part_pixels_differing'] <= 1e-3
    if not ok:
        print(
            'device_check: ONNX Runtime differs from eager fp32 beyond 1 grey level / 0.1 % of part pixels',
            file=sys.stderr)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
