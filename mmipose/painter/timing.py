"""Response time of the painter's two model calls: one synthesis and one object redraw.

Random weights (generator and PartNet) and synthetic k=3 support maps per part category, so no
file is needed; the scene is sky over road with two touching cars at the canvas size of the
config. Prints the median and minimum of ``--repeats`` calls after one warm-up, and the load.

Example::

    python tools/analysis/time_painter.py configs/toy/ipose_tiny_1xb4-600iters_toy-64x128.py --threads 2
    python tools/analysis/time_painter.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py --threads 2
"""
import argparse
import os
import time


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='time the painter (synthesis, object redraw)')
    parser.add_argument('config', help='IPOSE config')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--repeats', type=int, default=5, help='timed calls of each kind')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--backend', default='auto', choices=['auto', 'pytorch', 'onnxruntime', 'openvino'], help='as the painter')
    parser.add_argument('--precision', default='auto', choices=['auto', 'fp32', 'bf16'], help='as the painter')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    import numpy as np
    import torch
    from mmengine.config import Config

    from mmipose.models.partnet.reference_tables import NAMED_CATEGORIES
    from mmipose.painter import PainterSession
    from mmipose.utils.precision import set_flush_denormal
    torch.set_num_threads(args.threads)
    set_flush_denormal(True)
    cfg = Config.fromfile(args.config)
    bank = cfg.model.part_inferencer.support_bank
    categories = bank.categories
    categories = NAMED_CATEGORIES[categories] if isinstance(categories, str) else categories
    shape = np.zeros((64, 64), np.int64)  # a car-like part map: window 1, wheels 2, chassis 5
    shape[10:54, 8:56], shape[10:22, 16:48], shape[44:54, 10:22], shape[44:54, 42:54] = 5, 1, 2, 2
    maps = {int(c): np.stack([shape] * bank.get('num_supports', 3)) for c in categories}
    bank.update(root=None, categories=list(maps), maps=maps)
    cfg.model.part_inferencer.partnet.checkpoint = None
    from mmipose.apis import init_model
    from mmipose.deploy.benchmark import calibrate_norms
    model = init_model(cfg, None, args.device, sample_model='auto')
    calibrate_norms(model)  # random weights: BN statistics from one batch, or the export parity check fails
    session = PainterSession(cfg, None, device=args.device, model=model, backend=args.backend, precision=args.precision)
    if session.load_error:
        raise SystemExit(session.load_error)
    height, width = session.size
    road, sky = ((7, 23) if len(session.table.names) == 35 else (3, 1))
    car = next(c for c, k in session.table.part_categories.items() if k == 26)
    label = np.full((height, width), sky)
    label[height // 2:] = road
    inst = np.zeros_like(label)
    rows = slice(height * 5 // 8, height * 6 // 8)
    label[rows, width // 8:width * 3 // 8] = car
    inst[rows, width // 8:width // 4], inst[rows, width // 4:width * 3 // 8] = car * 1000 + 1, car * 1000 + 2
    inst = session.instances(label, inst)
    session.synthesize(label, inst, seed=0)  # warm-up: support encoding, allocations
    timings = dict(synthesis=[], object_redraw=[])
    for i in range(args.repeats):
        start = time.perf_counter()
        result = session.synthesize(label, inst, seed=i)
        timings['synthesis'].append(time.perf_counter() - start)
    for i in range(args.repeats):
        start = time.perf_counter()
        session.redraw(result, 'object', car * 1000 + 2, seed=100 + i)
        timings['object_redraw'].append(time.perf_counter() - start)
    summary = {k: dict(median=round(float(np.median(v)), 3), min=round(min(v), 3)) for k, v in timings.items()}
    load = os.getloadavg()
    inferencer = session.inferencer
    print(f'{args.config}: {height}x{width}, {inferencer.backend} {inferencer.precision}, {args.threads} threads, '
          f'load {load[0]:.1f}: ' + ', '.join(f'{k} median {v["median"]:.3f} s (min {v["min"]:.3f} s)'
                                              for k, v in summary.items()))
    return summary


if __name__ == '__main__':
    main()
