"""Time the authors' iPOSE code (github.com/csyxwei/iPOSE) on the scenes of benchmark_ipose.py.

The authors' code is imported at run time from a local clone (``--reference-repo``); nothing of it
is part of mmipose. It is built with the options of their Cityscapes scripts (full widths:
``--dataset_mode cityscapesins --part_nc 32 --use_coord --n_support 3``, training also
``--use_globalD``; no ``--add_vgg_loss``, i.e. no CLIP style loss) with random weights, at
256x512, on the synthetic scenes of ``benchmark_ipose.py`` (its scene builder is imported, so both
codebases see the same label maps, instance maps and object boxes). Cases, each in its own
subprocess so the peak memory (``ru_maxrss``; CUDA: ``max_memory_allocated``) is that case's:

* ``infer``: one image with ``--infer-objects`` objects as their test script runs it: model built
  with ``phase='test'`` (generator + its EMA copy), ``eval()``, ``preprocess_input`` and
  ``model(None, label, 'generate_withpart', None)`` (part inference + EMA generator);
* ``train:B``: one training iteration at batch size B as their train script runs it: G step
  (``'losses_G'``), D step (``'losses_D'``: fake, real and LabelMix D passes) with Adam, then
  ``utils.update_EMA`` (at iterations that do not trigger its every-1000-iterations BN refresh).

Results are printed and written (``--out``) in benchmark_ipose.py's JSON format, with
``codebase: 'reference'``. ``--compare`` also runs mmipose's benchmark_ipose.py workers on the
same cases (``--ours-variants``: the fp32 baseline and the default levers) alternately with the
reference, round by round, and prints the ratios (reference time / mmipose time). For the infer case it
also times the deployment variants (``--backends``, :mod:`mmipose.deploy.benchmark`): ``torch.compile``
(inductor), the exported ONNX graphs on ONNX Runtime and on OpenVINO (fp32, and bf16 where the CPU has
it), each in its own process in the same rounds; the ONNX Runtime worker also reports the FLOPs of one
synthesis and the measured fp32/bf16 GEMM peak, so the achieved GFLOP/s can be set against it.

Run-time patches of the authors' code (nothing else is changed):

* ``PartGeneratorBase.load_support_list`` reads support part maps from an absolute path of the
  authors' machine; it is replaced by synthetic k=3 64x64 part maps (ids 0..8) per category, the
  same kind as ``benchmark_ipose.py --random-partnet``;
* ``OASIS_model.__init__`` reads PartNet weights from
  ``<checkpoints_dir>/partsyn_model/models/best_G.pth``: a randomly initialised PartNet of theirs
  is saved there (a temporary directory) first, so their loading code runs unchanged;
* ``OASIS_model.load_checkpoints`` (test phase: reads the EMA generator file) is a no-op: random
  weights, as benchmark_ipose.py uses;
* ``put_on_multi_gpus`` is not called: on the CPU it sets ``model.module = model`` (a module
  containing itself, so ``model.eval()`` recurses forever); the model is called directly, and
  ``utils.update_EMA`` gets a holder with ``.module``. On CUDA the model is moved with
  ``.cuda()`` and also called directly (their single-GPU DataParallel only forwards).

Example (the reference clone in ../iPOSE)::

    python tools/analysis/benchmark_reference.py --reference-repo ../iPOSE --threads 2 \\
        --cases infer train --batch-sizes 1 2 --iters 3 --warmup 1 --compare
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile

OURS_CONFIG = 'configs/_base_/models/ipose.py'
REFERENCE_URL = 'https://github.com/csyxwei/iPOSE'
# files of the authors' code this harness imports
REFERENCE_FILES = ('models/models_ipose.py', 'models/generator_ipose.py', 'models/generator_partsyn2.py',
                   'models/losses.py', 'utils/utils.py', 'config.py')
# mmipose's default sampling levers and all training levers (benchmark_ipose.py --variants)
DEFAULT_LEVERS = {'infer': 'bf16+cl+ftz', 'train': 'bf16+cl+ftz+bd'}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--reference-repo', required=True, help=f'local clone of the authors\' code ({REFERENCE_URL})')
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    p.add_argument('--cases', nargs='+', default=['infer', 'train'], choices=['infer', 'train'])
    p.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 2])
    p.add_argument('--infer-objects', type=int, default=20, help='objects in the inference scene')
    p.add_argument(
        '--train-objects', type=int, default=8, help='objects per training scene (benchmark_ipose.py uses 8)')
    p.add_argument('--iters', type=int, default=3, help='timed calls per case')
    p.add_argument('--warmup', type=int, default=1, help='untimed calls first')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    p.add_argument('--image-size', type=int, nargs=2, default=[256, 512], help='H W')
    p.add_argument('--out', help='write the results as JSON here')
    p.add_argument(
        '--compare',
        action='store_true',
        help='also run mmipose (benchmark_ipose.py) on the same cases, alternately '
        'with the reference, and print the ratios')
    p.add_argument(
        '--rounds', type=int, default=1, help='--compare: rounds of (reference, mmipose variants), one process each')
    p.add_argument(
        '--ours-variants',
        nargs='+',
        default=['base', 'levers'],
        help="--compare: mmipose lever sets; 'base' = fp32 eager, 'levers' = "
        f"{DEFAULT_LEVERS['infer']} for infer and {DEFAULT_LEVERS['train']} for "
        'train, or a benchmark_ipose.py --variants set')
    p.add_argument(
        '--backends',
        nargs='*',
        default=['compile', 'onnxruntime', 'openvino', 'openvino-bf16'],
        help='--compare, infer case: deployment variants of mmipose.deploy.benchmark (none: '
        'only the eager variants)')
    p.add_argument('--worker', help=argparse.SUPPRESS)  # internal: run one reference case
    p.add_argument('--backend-worker', help=argparse.SUPPRESS)  # internal: time one deployment variant
    return p.parse_args(argv)


def check_reference_repo(path):
    """The absolute path of the clone, or a ValueError naming ``path`` and where to get it."""
    path = osp.abspath(osp.expanduser(path))
    missing = [f for f in REFERENCE_FILES if not osp.isfile(osp.join(path, f))]
    if missing:
        what = 'does not exist' if not osp.isdir(path) else f'lacks {", ".join(missing)}'
        raise ValueError(f"--reference-repo {path} {what}: expected a clone of the authors' "
                         f'iPOSE code ({REFERENCE_URL}: git clone {REFERENCE_URL}.git)')
    return path


# --------------------------------------------------------------------------------- worker side
def reference_options(phase, batch_size, checkpoints_dir, device):
    """The authors' option namespace for their Cityscapes scripts (plus the dataset's fields)."""
    import argparse as ap

    import config as ref_config  # the authors' config.py
    train = phase == 'train'
    parser = ref_config.add_all_arguments(ap.ArgumentParser(), train)
    argv = [
        '--dataset_mode', 'cityscapesins', '--part_nc', '32', '--use_coord', '--n_support', '3', '--batch_size',
        str(batch_size), '--checkpoints_dir', checkpoints_dir, '--gpu_ids', '0' if device.startswith('cuda') else '-1'
    ]
    if train:
        argv += ['--use_globalD']
    opt = parser.parse_args(argv)
    if train:
        ref_config.set_dataset_default_lm(opt, parser)  # Cityscapes lr_g, lambda_labelmix, EMA
        opt = parser.parse_args(argv)
    opt.phase = phase
    opt.ft = False  # as both their scripts set
    # what their CityscapesInsDataset sets on opt
    opt.load_size, opt.crop_size, opt.label_nc, opt.semantic_nc = 512, 512, 34, 35
    opt.contain_dontcare_label, opt.aspect_ratio = True, 2.0
    opt.categorys = [24, 25, 26, 27, 28, 31, 32, 33]
    return opt


def patch_reference(num_supports=3):
    """Run-time replacements of the authors' file reads (see the module docstring)."""
    import numpy as np
    import torch
    from models import generator_partsyn2, models_ipose

    def synthetic_supports(self, n_support, ex=False):
        rng = np.random.default_rng(0)
        return {
            k: [torch.from_numpy(rng.integers(0, 9, (1, 1, 64, 64)).astype('float32')) for _ in range(n_support)]
            for k in self.opt.categorys
        }

    generator_partsyn2.PartGeneratorBase.load_support_list = synthetic_supports
    models_ipose.OASIS_model.load_checkpoints = lambda self: None


def write_random_partnet(opt):
    """A random PartNet of the authors' code where their model loads it from."""
    import torch
    from models.generator_partsyn2 import PartGeneratorAttn
    folder = osp.join(opt.checkpoints_dir, 'partsyn_model', 'models')
    os.makedirs(folder, exist_ok=True)
    torch.save(PartGeneratorAttn(opt).state_dict(), osp.join(folder, 'best_G.pth'))


def reference_batch(batch_size, size, num_objects, seed):
    """benchmark_ipose.py's synthetic scenes in the authors' dataloader format."""
    import torch

    from mmipose.benchmarks.ipose_speed import synthetic_scene
    images, labels, instances, params, counts = [], [], [], [], []
    for b in range(batch_size):
        label, inst, objects, image = synthetic_scene(35, size, num_objects, seed + b)
        images.append(image.float() / 127.5 - 1)
        labels.append(label)
        instances.append(inst.int())
        # our rows [inst, part category, hs, he, ws, we, H0, W0] -> theirs [idx, hs, he, ws, we, H, W]
        if len(objects) and objects[:, 0].min() < 1000:
            raise ValueError(f'scene {seed + b}: object instance values {objects[:, 0].tolist()} '
                             'must be >= 1000 (class * 1000 + k), as the reference expects')
        params.append(torch.as_tensor(objects[:, [0, 2, 3, 4, 5, 6, 7]]))
        counts.append(len(objects))
    crop_params = torch.zeros(batch_size, max(max(counts), 1), 7, dtype=torch.int64)
    for b, rows in enumerate(params):
        crop_params[b, :len(rows)] = rows
    # (their preprocess_input moves these to CUDA when opt.gpu_ids is set)
    return dict(
        image=torch.stack(images),
        label=torch.stack(labels),
        instance=torch.stack(instances),
        crop_params=crop_params,
        ins_num=torch.tensor(counts))


def run_reference_case(args, case):
    import torch

    from mmipose.benchmarks import ipose_speed as ours
    repo = check_reference_repo(args.reference_repo)
    sys.path.insert(0, repo)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    kind, _, arg = case.partition(':')
    batch_size = int(arg) if kind == 'train' else 1
    size = tuple(args.image_size)
    torch.manual_seed(0)
    import random

    import numpy as np
    random.seed(0)
    np.random.seed(0)
    from models import losses as ref_losses
    from models import models_ipose
    from utils import utils as ref_utils
    patch_reference()
    checkpoints = tempfile.mkdtemp(prefix='ipose_reference_')
    opt = reference_options('train' if kind == 'train' else 'test', batch_size, checkpoints, device)
    write_random_partnet(opt)
    model = models_ipose.OASIS_model(opt)
    if device.startswith('cuda'):
        model = model.cuda()
    result = dict(
        case=case,
        codebase='reference',
        device=device,
        image_size=list(size),
        threads=torch.get_num_threads(),
        memory_after_build_mb=ours.peak_memory_mb(device),
        batch_size=batch_size)
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    if kind == 'infer':
        model.eval()
        data = reference_batch(1, size, args.infer_objects, 0)
        result['objects'] = args.infer_objects

        def fn():
            _, label = models_ipose.preprocess_input(opt, dict(data))
            model(None, label, 'generate_withpart', None)
    elif kind == 'train':
        model.train()
        losses_computer = ref_losses.losses_computer(opt)
        opt_g = torch.optim.Adam([p for p in model.netG.parameters() if p.requires_grad],
                                 lr=opt.lr_g,
                                 betas=(opt.beta1, opt.beta2))
        opt_d = torch.optim.Adam(model.netD.parameters(), lr=opt.lr_d, betas=(opt.beta1, opt.beta2))
        holder = type('Holder', (), {})()
        holder.module = model  # what update_EMA reads (their put_on_multi_gpus sets it)
        step = [0]

        def fn():
            step[0] += 1
            cur_iter = step[0]  # never a multiple of their print/FID/save intervals here
            data = reference_batch(batch_size, size, args.train_objects, cur_iter)
            image, label = models_ipose.preprocess_input(opt, data)
            model.netG.zero_grad()
            loss_g, _ = model(image, label, 'losses_G', losses_computer, cur_iter=cur_iter)
            loss_g.mean().backward()
            opt_g.step()
            model.netD.zero_grad()
            loss_d, _ = model(image, label, 'losses_D', losses_computer)
            loss_d.mean().backward()
            opt_d.step()
            ref_utils.update_EMA(holder, models_ipose, cur_iter, None, opt)

        result['objects'] = args.train_objects
    else:
        raise ValueError(f'unknown case {case}')
    result.update(ours.timed(fn, args.iters, args.warmup, device))
    result['peak_memory_mb'] = ours.peak_memory_mb(device)
    return result


def run_backend_case(args, variant):
    """One deployment variant on benchmark_ipose.py's inference scene (mmipose.deploy.benchmark)."""
    import torch

    from mmipose.benchmarks import ipose_speed as ours
    from mmipose.deploy import benchmark as deploy_benchmark
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    size = tuple(args.image_size)
    model = deploy_benchmark.build_random_model(OURS_CONFIG)
    label, inst, objects, _ = ours.synthetic_scene(model.num_classes, size, args.infer_objects, 0)
    label, inst = label[0].numpy(), inst[0].numpy()
    result = dict(
        case='infer',
        codebase='mmipose',
        variant=variant,
        device=args.device,
        image_size=list(size),
        threads=torch.get_num_threads(),
        objects=args.infer_objects,
        batch_size=1)
    if variant == 'onnxruntime':  # once per run: the work of one synthesis and this CPU's GEMM peak
        result['gflop'] = deploy_benchmark.sampling_flops(model, label, inst, objects) / 1e9
        result['gemm_peak_gflops'] = {
            'fp32': deploy_benchmark.gemm_peak_gflops(torch.float32),
            'bf16': deploy_benchmark.gemm_peak_gflops(torch.bfloat16)
        }
    result.update(
        deploy_benchmark.time_variant(model, variant, label, inst, objects, args.iters, args.warmup, args.device))
    result['peak_memory_mb'] = ours.peak_memory_mb(args.device)
    return result


# --------------------------------------------------------------------------------- driver side
def _run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('RESULT ')]
    if proc.returncode or not lines:
        return dict(error=proc.stderr[-3000:] or proc.stdout[-3000:])
    return json.loads(lines[-1][len('RESULT '):])


def reference_command(args, case):
    cmd = [
        sys.executable, '-m', 'mmipose.benchmarks.reference_speed', '--reference-repo', args.reference_repo, '--device',
        args.device, '--iters',
        str(args.iters), '--warmup',
        str(args.warmup), '--infer-objects',
        str(args.infer_objects), '--train-objects',
        str(args.train_objects), '--image-size', *map(str, args.image_size), '--worker', case
    ]
    if args.threads:
        cmd += ['--threads', str(args.threads)]
    return cmd


def backend_command(args, variant):
    cmd = [
        sys.executable, '-m', 'mmipose.benchmarks.reference_speed', '--reference-repo', args.reference_repo, '--device',
        args.device, '--iters',
        str(args.iters), '--warmup',
        str(args.warmup), '--infer-objects',
        str(args.infer_objects), '--image-size', *map(str, args.image_size), '--backend-worker', variant
    ]
    if args.threads:
        cmd += ['--threads', str(args.threads)]
    return cmd


def ours_command(args, case, variant):
    """benchmark_ipose.py worker on the same case: random PartNet, no CLIP when training."""
    kind = case.partition(':')[0]
    cmd = [
        sys.executable, '-m', 'mmipose.benchmarks.ipose_speed', OURS_CONFIG, '--random-partnet', '--device',
        args.device, '--warmup',
        str(args.warmup), '--image-size', *map(str, args.image_size)
    ]
    if kind == 'infer':
        cmd += ['--cases', 'infer', '--infer-objects', str(args.infer_objects), '--infer-iters', str(args.iters)]
    else:
        cmd += [
            '--cases', 'train', '--train-steps',
            str(args.iters), '--cfg-options', 'model.loss_config.style_loss=None'
        ]
    if variant == 'levers':
        variant = DEFAULT_LEVERS[kind]
    if variant != 'base':
        cmd += ['--variants', variant]
    if args.threads:
        cmd += ['--threads', str(args.threads)]
    return cmd + ['--worker', case], variant


def _line(name, res):
    if 'error' in res:
        return f'{name:>32}: FAILED\n{res["error"]}'
    return (f"{name:>32}: median {res['median_s']:.3f} s  min {res['min_s']:.3f} s  "
            f"peak {res['peak_memory_mb']:.0f} MB  ({res['device']}, {res['threads']} threads)")


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print('RESULT ' + json.dumps(run_reference_case(args, args.worker)), flush=True)
        return None
    if args.backend_worker:
        print('RESULT ' + json.dumps(run_backend_case(args, args.backend_worker)), flush=True)
        return None
    args.reference_repo = check_reference_repo(args.reference_repo)
    cases = (['infer'] if 'infer' in args.cases else []) + ([f'train:{b}' for b in args.batch_sizes]
                                                            if 'train' in args.cases else [])
    results = []
    for case in cases:
        runs = {}
        for _ in range(args.rounds if args.compare else 1):
            res = _run(reference_command(args, case))
            runs.setdefault('reference', []).append(res)
            print(_line(f'{case} reference', res), flush=True)
            for variant in (args.ours_variants if args.compare else []):
                cmd, spec = ours_command(args, case, variant)
                res = _run(cmd)
                res['codebase'] = 'mmipose'
                runs.setdefault(f'mmipose {spec}', []).append(res)
                print(_line(f'{case} mmipose {spec}', res), flush=True)
            for variant in (args.backends if args.compare and case == 'infer' else []):
                res = _run(backend_command(args, variant))
                runs.setdefault(f'mmipose {variant}', []).append(res)
                print(_line(f'{case} mmipose {variant}', res), flush=True)
        for name, rs in runs.items():
            results.extend(dict(r, case=case, codebase=name) for r in rs)
        ok = {name: [r for r in rs if 'error' not in r] for name, rs in runs.items()}
        if args.compare and ok.get('reference'):
            ref = statistics.median(r['median_s'] for r in ok['reference'])
            ref_mem = max(r['peak_memory_mb'] for r in ok['reference'])
            for name, rs in ok.items():
                if name == 'reference' or not rs:
                    continue
                mine = statistics.median(r['median_s'] for r in rs)
                mem = max(r['peak_memory_mb'] for r in rs)
                extra = ''
                if 'max_abs_vs_eager_fp32' in rs[0]:
                    extra = f", image max abs vs eager fp32 {max(r['max_abs_vs_eager_fp32'] for r in rs):.3g}"
                print(
                    f'{case:>10} {name:>28}: x{ref / mine:.2f} faster than the reference '
                    f'({mine:.3f} s vs {ref:.3f} s), peak memory {mem:.0f} vs {ref_mem:.0f} MB{extra}',
                    flush=True)
            flops = [r for rs in ok.values() for r in rs if 'gflop' in r]
            if flops:
                work, peak = flops[0]['gflop'], flops[0]['gemm_peak_gflops']
                print(
                    f'{case:>10}: {work:.1f} GFLOP per synthesis (convolutions + matmuls); measured GEMM peak '
                    f"{peak['fp32']:.0f} GFLOP/s fp32, {peak['bf16']:.0f} GFLOP/s bf16",
                    flush=True)
                for name, rs in ok.items():
                    mine = statistics.median(r['median_s'] for r in rs)
                    print(f'{case:>10} {name:>28}: {work / mine:.1f} GFLOP/s', flush=True)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(reference_repo=args.reference_repo, results=results), f, indent=2)
    return results


if __name__ == '__main__':
    main()
