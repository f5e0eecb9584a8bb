"""Time to the first image and peak memory of a fresh process, per backend, as users start one.

Each case is its own process that does what ``tools/synthesize.py`` does: build
``IPOSEInferencer(config, checkpoint, backend=...)`` (precision 'auto'; channels-last for eager), then
synthesize benchmark_ipose.py's scene twice. It reports the seconds to a ready inferencer, the first
and the second synthesis, and the process's peak RSS. Cases:

* ``pytorch``: eager with the default levers;
* ``openvino-cold``: OpenVINO with an empty export cache (the graphs are exported and checked first);
* ``openvino-warm``: OpenVINO again, the graphs taken from the cache the cold case wrote.

The model is :func:`~mmipose.deploy.benchmark.build_random_model`'s (random PartNet and supports,
generator BN statistics calibrated), saved once as a checkpoint with a config that holds its supports.

Example::

    python tools/analysis/benchmark_startup.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py \\
        --threads 2 --rounds 2
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time
from typing import List

CASES = ('pytorch', 'openvino-cold', 'openvino-warm')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='time to the first image and peak memory per backend')
    parser.add_argument('config', help='IPOSE config (random weights are used)')
    parser.add_argument('--threads', type=int, default=2, help='torch / backend CPU threads')
    parser.add_argument('--objects', type=int, default=20, help='objects in the scene')
    parser.add_argument('--image-size', type=int, nargs=2, default=None, help='H W (default: the config\'s)')
    parser.add_argument('--rounds', type=int, default=1, help='rounds of all cases, interleaved')
    parser.add_argument('--cases', nargs='+', default=list(CASES), choices=CASES)
    parser.add_argument('--out', default=None, help='write the results as JSON here')
    parser.add_argument('--worker', nargs=4, help=argparse.SUPPRESS)  # case config checkpoint cache_dir
    return parser.parse_args(argv)


def run_case(case: str, config: str, checkpoint: str, cache_dir: str, threads: int, objects: int, size) -> dict:
    """One case in this process (see the module docstring)."""
    os.environ['MMIPOSE_CACHE_DIR'] = cache_dir
    import torch

    from mmipose.apis import IPOSEInferencer
    from mmipose.benchmarks import ipose_speed
    from mmipose.utils.precision import set_flush_denormal
    torch.set_num_threads(threads)
    set_flush_denormal(True)
    backend = case.partition('-')[0]
    start = time.perf_counter()
    inferencer = IPOSEInferencer(
        config, checkpoint, backend=backend, precision='auto', channels_last=True if backend == 'pytorch' else None)
    ready = time.perf_counter() - start
    num_classes = inferencer.model.num_classes
    label, inst, _, _ = ipose_speed.synthetic_scene(num_classes, tuple(size), objects, 0)
    label, inst = label[0].numpy(), inst[0].numpy()
    times = []
    for _ in range(2):
        start = time.perf_counter()
        inferencer(label, inst, seed=0)
        times.append(time.perf_counter() - start)
    return dict(
        case=case,
        backend=inferencer.backend,
        precision=inferencer.precision,
        ready_s=ready,
        first_image_s=times[0],
        second_image_s=times[1],
        to_first_image_s=ready + times[0],
        peak_rss_gb=ipose_speed.peak_memory_mb('cpu') / 1024)


def prepare_model(config: str, folder: str) -> tuple:
    """A config file (supports inside), a checkpoint of ``build_random_model(config)`` in ``folder`` and the
    config's working (H, W)."""
    import torch

    from .benchmark import build_random_model
    model = build_random_model(config)
    cfg = model.cfg
    cfg.model.part_inferencer.support_bank.maps = {
        int(c): m.tolist()
        for c, m in cfg.model.part_inferencer.support_bank.maps.items()
    }
    config_path, checkpoint = osp.join(folder, 'model.py'), osp.join(folder, 'model.pth')
    cfg.dump(config_path)
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    from mmipose.painter.session import canvas_size
    return config_path, checkpoint, list(canvas_size(cfg))


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    if args.worker:
        case, config, checkpoint, cache_dir = args.worker
        print(json.dumps(run_case(case, config, checkpoint, cache_dir, args.threads, args.objects, args.image_size)))
        return []
    results = []
    with tempfile.TemporaryDirectory(prefix='mmipose_startup_') as folder:
        config, checkpoint, size = prepare_model(args.config, folder)
        size = args.image_size or size
        for round_index in range(args.rounds):
            cache_dir = osp.join(folder, f'cache_{round_index}')  # cold: empty; warm: what cold wrote
            for case in args.cases:
                cmd = [
                    sys.executable, '-m', 'mmipose.deploy.startup', args.config, '--threads',
                    str(args.threads), '--objects',
                    str(args.objects), '--image-size', *map(str, size), '--worker', case, config, checkpoint, cache_dir
                ]
                out = subprocess.run(cmd, capture_output=True, text=True)
                if out.returncode:
                    raise RuntimeError(f'startup case {case} failed:\n{out.stderr[-3000:]}')
                result = json.loads(out.stdout.strip().splitlines()[-1])
                result['round'] = round_index
                results.append(result)
                print(
                    f"round {round_index} {case:14s} ready {result['ready_s']:6.1f} s  first image "
                    f"{result['first_image_s']:5.2f} s  second {result['second_image_s']:5.2f} s  "
                    f"peak RSS {result['peak_rss_gb']:.2f} GB",
                    flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
