"""Benchmark an IPOSE config: train-step time and peak memory, inference latency, part inference.

Measures, on synthetic Cityscapes-like scenes at the config's resolution (random weights; CLIP
random-init when its weights are absent, PartNet/supports as the config says):

* ``train``: seconds per ``train_step`` (G step + D step + EMA) and peak memory, per batch size;
* ``infer``: seconds per image of ``val_step`` (EMA generator, part inference included). The
  model is built as :class:`IPOSEInferencer` builds it: PartNet and the EMA generator only
  (``--infer-build sampling``); ``--infer-build full`` builds the whole model and frees D, CLIP
  and the training generator afterwards; ``--baseline`` keeps the whole model;
* ``parts``: seconds of ``part_inferencer(inst, objects)`` for 1, 8, 32, 128 objects per image.

Every case runs in its own subprocess so CPU peak memory (``ru_maxrss``) belongs to that case
alone; on CUDA the peak is ``torch.cuda.max_memory_allocated``.

Speed levers (``--variants``, tokens joined by ``+``): ``bf16`` / ``fp16`` autocast (training:
``CPUAutocastOptimWrapper`` on CPU, ``AmpOptimWrapper`` on CUDA; sampling: ``sample_precision``),
``cl`` channels-last weights, ``ftz`` flushed denormals, ``bd`` one D call for the fake, real and
LabelMix images. ``base`` is the **baseline**: eager, fp32, NCHW, one D pass at a time, denormals
kept, PartNet on all objects in one call (no chunking). Each variant is run alternately with the
baseline in **one** process on the same model (round robin after a warm-up), so the reported
ratios come from one machine under the same load; the step's convolution/matmul FLOPs are counted
once and printed as GFLOP/s next to a measured GEMM peak of the machine.

Example::

    python tools/analysis/benchmark_ipose.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py \\
        --batch-sizes 1 2 --train-steps 2 --out work_dirs/benchmark_ipose.json
    # ratios against the baseline, interleaved in one process
    python tools/analysis/benchmark_ipose.py configs/_base_/models/ipose.py --random-partnet \\
        --baseline --variants bf16 cl bf16+cl+ftz --cases infer --infer-iters 3
"""
import argparse
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

DEFAULT_CONFIG = 'configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py'


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    p.add_argument('--device', default='auto', help="'cpu', 'cuda' or 'auto'")
    p.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 2])
    p.add_argument('--train-steps', type=int, default=2, help='timed train steps per batch size')
    p.add_argument('--warmup', type=int, default=1, help='untimed steps / calls first')
    p.add_argument('--infer-iters', type=int, default=3)
    p.add_argument('--object-counts', type=int, nargs='+', default=[1, 8, 32, 128])
    p.add_argument('--part-iters', type=int, default=3)
    p.add_argument('--cases', nargs='+', default=['train', 'infer', 'parts'], choices=['train', 'infer', 'parts'])
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    p.add_argument(
        '--random-partnet', action='store_true', help='random PartNet weights and synthetic supports (no files needed)')
    p.add_argument('--image-size', type=int, nargs=2, default=None, help='H W of the scenes')
    p.add_argument('--out', help='write the results as JSON here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    p.add_argument(
        '--baseline',
        action='store_true',
        help='compare --variants with the baseline (eager fp32 NCHW, separate D passes, '
        'denormals kept, no PartNet chunking), interleaved in one process')
    p.add_argument(
        '--variants',
        nargs='+',
        default=[],
        help="levers joined by '+': bf16, fp16, cl (channels_last), ftz (flush "
        "denormals), bd (batched D passes); e.g. bf16+cl+ftz. Without --baseline: "
        "one set, applied to every timed call")
    p.add_argument('--infer-objects', type=int, default=8, help='objects per image for infer')
    p.add_argument(
        '--infer-build',
        choices=['sampling', 'full'],
        default='sampling',
        help="infer: build only what sampling runs (as the inferencer) or the whole "
        "model, then free D, CLIP and the training generator")
    p.add_argument('--worker', help=argparse.SUPPRESS)  # internal: run one case
    return p.parse_args(argv)


# --------------------------------------------------------------------------------- worker side
def _device(name):
    import torch
    if name == 'auto':
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    return name


def _sync(device):
    import torch
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def build_model(args, device, sampling=False):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmipose  # noqa: F401
    from mmipose.registry import MODELS
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if args.random_partnet and cfg.model.get('part_inferencer'):
        # No released weights here: random PartNet and synthetic k=3 supports per category.
        import numpy as np

        from mmipose.models.partnet.reference_tables import NAMED_CATEGORIES
        bank = cfg.model.part_inferencer.support_bank
        categories = bank.categories
        if isinstance(categories, str):
            categories = NAMED_CATEGORIES[categories]
        rng = np.random.default_rng(0)
        maps = {int(c): rng.integers(0, 9, (bank.get('num_supports', 3), 64, 64)) for c in categories}
        bank.update(root=None, categories=list(maps), maps=maps)
        cfg.model.part_inferencer.partnet.checkpoint = None
    if args.baseline and cfg.model.get('part_inferencer'):
        cfg.model.part_inferencer.chunk_size = None  # all objects in one PartNet call
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    if sampling:  # PartNet and the EMA generator only, as init_model(..., sample_model='auto')
        from mmipose.apis.model_loading import build_sampling_model
        model = build_sampling_model(cfg, 'auto').to(device)
    else:
        model = MODELS.build(cfg.model).to(device)
    return cfg, model


VARIANT_TOKENS = ('base', 'fp32', 'bf16', 'fp16', 'cl', 'ftz', 'bd')


def parse_variant(spec):
    """'bf16+cl+ftz' -> dict(precision='bf16', channels_last=True, ftz=True, batch_d=False)."""
    tokens = spec.split('+')
    bad = [t for t in tokens if t not in VARIANT_TOKENS]
    if bad:
        raise ValueError(f'--variants {spec!r}: unknown lever(s) {bad}; expected tokens of '
                         f'{VARIANT_TOKENS} joined by +')
    precision = next((t for t in tokens if t in ('bf16', 'fp16')), 'fp32')
    return dict(precision=precision, channels_last='cl' in tokens, ftz='ftz' in tokens, batch_d='bd' in tokens)


def apply_variant(model, variant, state):
    """Put the model and the process into ``variant`` (outside the timed region)."""
    import torch
    if state.get('channels_last') != variant['channels_last']:
        model.set_memory_format(torch.channels_last if variant['channels_last'] else torch.contiguous_format)
    torch.set_flush_denormal(variant['ftz'])
    model.sample_precision = variant['precision']
    model.batch_d_passes = variant['batch_d']
    state.update(variant)


def count_flops(fn):
    """Convolution/matmul FLOPs of one call of ``fn`` (torch's FlopCounterMode)."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops()


def gemm_peak_gflops(device, dtype_name, seconds=1.0):
    """Measured GEMM throughput (2048^3 matmuls) in GFLOP/s: the practical peak here."""
    import torch
    dtype = getattr(torch, {'fp32': 'float32', 'bf16': 'bfloat16', 'fp16': 'float16'}[dtype_name])
    if device == 'cpu' and dtype == torch.float16:
        return None
    n = 2048
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    _sync(device)
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        runs += 1
        _sync(device)
    return 2 * n**3 * runs / (time.perf_counter() - start) / 1e9


def image_size(cfg, model):
    size = cfg.get('benchmark_image_size', None)
    if getattr(image_size, 'override', None):
        size = image_size.override
    if size is None:
        size = (256, 512) if model.num_classes == 35 else (256, 256)
    return tuple(size)


def synthetic_scene(num_classes, size, num_objects, seed, part_category=26):
    """Label (1,H,W), instance map (1,H,W), objects (K,8), image (3,H,W) uint8 BGR."""
    import numpy as np
    import torch

    from mmipose.datasets.object_boxes import OBJECT_ROW_WIDTH, compute_object_boxes
    h, w = size
    rng = np.random.default_rng(seed)
    label = np.zeros((h, w), np.int64)
    object_class = min(26, num_classes - 1)
    # horizontal stuff bands, never of the object class: a band of it would be one more object
    # (an instance value below 1000, which Cityscapes reserves for crowd regions)
    bands = rng.integers(1, num_classes - 1, size=8)
    bands[bands >= object_class] += 1
    for i, cls in enumerate(bands):
        label[i * h // 8:(i + 1) * h // 8] = cls
    inst = label.copy()
    cols = max(1, int(np.ceil(np.sqrt(num_objects * w / h))))
    rows = int(np.ceil(num_objects / cols))
    cell_h, cell_w = h // max(rows, 1), w // cols
    yy, xx = np.mgrid[0:h, 0:w]
    for k in range(num_objects):
        r, c = divmod(k, cols)
        cy, cx = r * cell_h + cell_h / 2, c * cell_w + cell_w / 2
        ry, rx = max(cell_h * 0.4, 1.5), max(cell_w * 0.4, 1.5)
        mask = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 <= 1
        label[mask] = object_class
        inst[mask] = object_class * 1000 + k + 1
    objects = compute_object_boxes(inst, label, {object_class: part_category})
    image = rng.integers(0, 256, (3, h, w), dtype=np.uint8)
    return (torch.from_numpy(label)[None], torch.from_numpy(inst)[None],
            np.asarray(objects, np.int64).reshape(-1, OBJECT_ROW_WIDTH), torch.from_numpy(image))


def make_batch(num_classes, size, batch_size, num_objects=8, seed=0):
    from mmagic.structures import DataSample
    inputs = dict(img=[], label=[], inst=[])
    samples = []
    for b in range(batch_size):
        label, inst, objects, image = synthetic_scene(num_classes, size, num_objects, seed + b)
        sample = DataSample(gt_img=image.clone())
        sample.set_metainfo(dict(objects=objects))
        inputs['img'].append(image)
        inputs['label'].append(label)
        inputs['inst'].append(inst)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def peak_memory_mb(device):
    import torch
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def timed(fn, iters, warmup, device):
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return dict(median_s=statistics.median(times), min_s=min(times), runs=len(times))


def run_case(args, case):
    import torch
    from mmengine import MessageHub
    from mmengine.optim import OptimWrapperDict
    if args.threads:
        torch.set_num_threads(args.threads)
    device = _device(args.device)
    torch.manual_seed(0)
    image_size.override = args.image_size
    kind, _, arg = case.partition(':')
    lean = kind == 'infer' and not args.baseline and args.infer_build == 'sampling'
    cfg, model = build_model(args, device, sampling=lean)
    size = image_size(cfg, model)
    rss_after_build = peak_memory_mb(device)
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    result = dict(
        case=case,
        device=device,
        image_size=list(size),
        threads=torch.get_num_threads(),
        memory_after_build_mb=rss_after_build)
    if kind == 'train':
        batch_size = int(arg)
        model.train()
        opt = cfg.optim_wrapper
        optimizers = {
            name:
            torch.optim.Adam(
                getattr(model, name).parameters(),
                lr=opt[name]['optimizer']['lr'],
                betas=tuple(opt[name]['optimizer']['betas']))
            for name in ('generator', 'discriminator')
        }
        wrapper_sets = {}

        def wrappers_for(precision):
            if precision not in wrapper_sets:
                wrapper_sets[precision] = OptimWrapperDict(**{
                    name: make_wrapper(optimizer, precision, device)
                    for name, optimizer in optimizers.items()
                })
            return wrapper_sets[precision]

        hub = MessageHub.get_instance('benchmark_ipose')
        step = [0]
        current = dict(precision='fp32')

        def train_once():
            hub.update_info('iter', step[0])
            step[0] += 1
            model.train_step(
                make_batch(model.num_classes, size, batch_size, seed=step[0]), wrappers_for(current['precision']))

        result.update(batch_size=batch_size)
        fn, iters = train_once, args.train_steps
    elif kind == 'infer':
        model.eval()
        if not args.baseline and not lean:  # keep what an inferencer keeps
            model.release_training_modules('ema' if model.with_ema_gen else 'orig')
        batch = make_batch(model.num_classes, size, 1, num_objects=args.infer_objects)
        current = None
        result.update(batch_size=1, objects=args.infer_objects, build='whole' if args.baseline else args.infer_build)
        fn, iters = (lambda: model.val_step(batch)), args.infer_iters
    elif kind == 'parts':
        model.eval()
        num_objects = int(arg)
        label, inst, objects, _ = synthetic_scene(model.num_classes, size, num_objects, 0)
        inst = inst[None].to(device)
        table = [torch.as_tensor(objects, device=device)]
        current = None
        result.update(objects=num_objects)

        def fn():
            with torch.no_grad():
                model.part_inferencer(inst, table)

        iters = args.part_iters
    else:
        raise ValueError(f'unknown case {case}')
    if not args.baseline:
        if args.variants:  # one lever set, timed alone (e.g. by benchmark_reference.py --compare)
            if len(args.variants) > 1:
                raise ValueError(f'--variants {args.variants}: without --baseline give one set, '
                                 "e.g. bf16+cl+ftz")
            variant = parse_variant(args.variants[0])
            apply_variant(model, variant, {})
            if current is not None:
                current['precision'] = variant['precision']
            result['variant'] = args.variants[0]
        result.update(timed(fn, iters, args.warmup, device))
    else:
        result.update(compare_variants(args, model, fn, iters, device, current))
    result['peak_memory_mb'] = peak_memory_mb(device)
    return result


def make_wrapper(optimizer, precision, device):
    from mmengine.optim import AmpOptimWrapper, OptimWrapper

    from mmipose.engine.optim_wrappers import CPUAutocastOptimWrapper
    if precision == 'fp32':
        return OptimWrapper(optimizer)
    if device.startswith('cuda'):
        return AmpOptimWrapper(optimizer=optimizer, dtype=precision.replace('bf', 'bfloat').replace('fp', 'float'))
    return CPUAutocastOptimWrapper(optimizer, dtype='bfloat16')


def compare_variants(args, model, fn, iters, device, current):
    """Round robin over the baseline and ``--variants`` (warm-up round first); medians, ratios."""
    specs = ['base'] + [v for v in args.variants if v != 'base']
    variants = {spec: parse_variant(spec) for spec in specs}
    state = {}
    times = {spec: [] for spec in specs}
    for round_ in range(args.warmup + iters):
        for spec in specs:
            apply_variant(model, variants[spec], state)
            if current is not None:
                current['precision'] = variants[spec]['precision']
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            if round_ >= args.warmup:
                times[spec].append(time.perf_counter() - start)
    apply_variant(model, variants['base'], state)
    if current is not None:
        current['precision'] = 'fp32'
    flops = count_flops(fn)
    base = statistics.median(times['base'])
    out = dict(flops=flops, variants={})
    for spec in specs:
        median = statistics.median(times[spec])
        out['variants'][spec] = dict(
            median_s=median, times_s=times[spec], speedup=base / median, gflops=flops / median / 1e9)
    out['gemm_peak_gflops'] = {
        p: gemm_peak_gflops(device, p)
        for p in sorted({v['precision']
                         for v in variants.values()})
    }
    out['median_s'], out['min_s'], out['runs'] = base, min(times['base']), len(times['base'])
    return out


# --------------------------------------------------------------------------------- driver side
def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print('RESULT ' + json.dumps(run_case(args, args.worker)), flush=True)
        return
    cases = []
    if 'train' in args.cases:
        cases += [f'train:{b}' for b in args.batch_sizes]
    if 'infer' in args.cases:
        cases.append('infer')
    if 'parts' in args.cases:
        cases += [f'parts:{n}' for n in args.object_counts]
    forwarded = [a for a in (argv if argv is not None else sys.argv[1:])]
    results = []
    for case in cases:
        cmd = [sys.executable, '-m', 'mmipose.benchmarks.ipose_speed'] + forwarded + ['--worker', case]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('RESULT ')]
        if proc.returncode or not lines:
            print(f'{case}: FAILED\n{proc.stderr[-3000:]}', file=sys.stderr)
            results.append(dict(case=case, error=proc.stderr[-1000:]))
            continue
        res = json.loads(lines[-1][len('RESULT '):])
        results.append(res)
        extra = f" objects={res['objects']}" if 'objects' in res else ''
        for spec, v in res.get('variants', {}).items():
            print(f"{case:>10} {spec:>16}: median {v['median_s']:.3f} s  x{v['speedup']:.2f} vs "
                  f"base  {v['gflops']:.1f} GFLOP/s  runs {[round(t, 2) for t in v['times_s']]}")
        if 'variants' in res:
            peaks = ', '.join(f'{k} {v:.0f}' for k, v in res['gemm_peak_gflops'].items() if v)
            print(f"{case:>10}: {res['flops'] / 1e9:.0f} GFLOP per call; measured GEMM peak "
                  f"(GFLOP/s): {peaks}")
        print(
            f"{case:>10}: median {res['median_s']:.4f} s  min {res['min_s']:.4f} s  "
            f"peak {res['peak_memory_mb']:.0f} MB  ({res['device']}, {res['threads']} threads, "
            f"{res['image_size'][0]}x{res['image_size'][1]}){extra}",
            flush=True)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(config=args.config, results=results), f, indent=2)
    return results


if __name__ == '__main__':
    main()
