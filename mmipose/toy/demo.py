"""`make demo`: the whole iPOSE pipeline on toy street scenes, on a CPU, in minutes.

Stages (each timed and logged):
  1. data       generate (or reuse) the toy scenes, their part dataset and the supports;
  2. partnet    pretrain PartNet on the basis toy categories (bus held out as novel);
                evaluate part accuracy on basis and novel validation crops;
  3. segmenter  train a small MMSeg segmenter on the real toy images;
  4. ipose      train iPOSE (reduced widths) with tools/train.py on the toy scenes (with
                --eval-every, the segmenter scores the synthesized val scenes during training);
  5. evaluate   synthesize the validation scenes: mIoU / AC through the segmenter, FID when
                Inception weights are present, sample grids and editing pictures.

Outputs in --work-dir: metrics.json, grids/<scene>.png (label | parts | synthesized | real),
editing/*.png, stage logs and checkpoints of every stage; with --eval-every (on in the long
schedule) ipose_curve.json, the scene mIoU of the synthesized val scenes during iPOSE training.

Examples:
    python tools/demo.py --work-dir work_dirs/demo
    python tools/demo.py --work-dir work_dirs/demo-quick --quick
    python tools/demo.py --work-dir work_dirs/demo-long --schedule long
"""
import argparse
import json
import logging
import os
import os.path as osp
import time
from typing import Dict, List, Optional

# Scenes and iterations per stage. 'full' (make demo) runs each toy config at its own max_iters (filled in
# by get_schedule), sized for 15 minutes on a 2-core CPU (docs/toy_demo.md has the measurements).
SCHEDULES = dict(
    full=dict(num_train=400, num_val=64, num_grids=8),
    # long: a longer GAN run with a slower EMA (momentum 0.01, an average over ~100 iterations instead
    # of ~20); the config's 0.05 is for runs of a few hundred iterations, where a slower EMA keeps too
    # much of the random initial weights
    long=dict(num_train=400, num_val=64, ipose_iters=3000, num_grids=8, eval_every=300, ema_momentum=0.01),
    quick=dict(num_train=40, num_val=8, partnet_iters=2, ipose_iters=2, segmenter_iters=5, num_grids=2))


def get_schedule(mode: str) -> dict:
    """The schedule ``mode`` of :data:`SCHEDULES`; stage iterations it leaves out are the configs' max_iters."""
    from mmengine.config import Config

    from mmipose.toy.stages import IPOSE_CONFIG, PARTNET_CONFIG, SEGMENTER_CONFIG
    if mode not in SCHEDULES:
        raise ValueError(f'demo schedule must be one of {sorted(SCHEDULES)}, got {mode!r}')
    schedule = dict(SCHEDULES[mode])
    for key, config in (('partnet_iters', PARTNET_CONFIG), ('segmenter_iters', SEGMENTER_CONFIG), ('ipose_iters',
                                                                                                   IPOSE_CONFIG)):
        if key not in schedule:
            schedule[key] = int(Config.fromfile(config).train_cfg.max_iters)
    return schedule


logger = logging.getLogger('mmipose.demo')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='iPOSE demo on toy street scenes (CPU, minutes)')
    parser.add_argument('--work-dir', default='work_dirs/demo', help='output folder')
    parser.add_argument('--data-root', default=None, help='toy data cache (default: <work-dir>/data)')
    parser.add_argument(
        '--schedule',
        choices=sorted(SCHEDULES),
        default='full',
        help="iterations per stage: 'full' (make demo), 'long' (a longer GAN run), 'quick'")
    parser.add_argument(
        '--quick', action='store_true', help='sub-minute smoke run (meaningless numbers); same as --schedule quick')
    parser.add_argument('--seed', type=int, default=0, help='toy data and training seed')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    parser.add_argument(
        '--inception',
        default=None,
        help='local Inception weights for FID (pt_inception-2015-12-05 .pth); '
        'without them FID is skipped and metrics.json says why')
    parser.add_argument(
        '--eval-every',
        type=int,
        default=None,
        help='score the synthesized val scenes every N iPOSE iterations (scene mIoU curve in '
        'metrics.json and ipose_curve.json). Default: '
        "300 with --schedule long, off otherwise")
    parser.add_argument(
        '--fp32',
        action='store_true',
        help='train iPOSE in float32. Default: bfloat16 autocast (tools/train.py --amp) on CPUs '
        'with native bfloat16 (avx512_bf16 / AMX), float32 elsewhere. PartNet and the '
        'segmenter always train in float32 (bfloat16 cost them accuracy)')
    parser.add_argument(
        '--docs-dir', default=None, help='also copy the editing pictures here (the repository uses docs/demo)')
    args = parser.parse_args(argv)
    if args.eval_every is not None and args.eval_every < 0:
        parser.error(f'--eval-every must be >= 0 (0: off), got {args.eval_every}')
    return args


def ipose_bf16(args: argparse.Namespace) -> bool:
    """Whether iPOSE trains under bfloat16 autocast: on a CPU with native bfloat16, unless --fp32."""
    from mmipose.utils.precision import bf16_supported
    return not args.fp32 and args.device == 'cpu' and bf16_supported('cpu')


class StageLog:
    """Times the stages and prints a clear log line for each."""

    def __init__(self) -> None:
        self.timings: Dict[str, float] = {}
        self.start = time.time()

    def run(self, name: str, func, *args, **kwargs):
        logger.info('=== stage %-10s started', name)
        t0 = time.time()
        result = func(*args, **kwargs)
        self.timings[name] = round(time.time() - t0, 1)
        logger.info('=== stage %-10s done in %.1f s (total %.1f s)', name, self.timings[name], time.time() - self.start)
        return result

    @property
    def total(self) -> float:
        return round(time.time() - self.start, 1)


def main(argv: Optional[List[str]] = None) -> dict:
    """Parse the demo's arguments and run it: :func:`run_demo`."""
    return run_demo(parse_args(argv))


def run_demo(args: argparse.Namespace) -> dict:
    """Run every stage; write and return metrics.json's content."""
    logging.basicConfig(level=logging.INFO, format='%(asctime)s demo %(message)s', datefmt='%H:%M:%S')
    from mmipose.engine.hooks import SceneMIoUCurveHook
    from mmipose.toy.stages import (SEGMENTER_CONFIG, data_preview, evaluate_stage, ipose_stage, partnet_stage,
                                    prepare_stage, segmenter_stage)
    from mmipose.utils.entry_point import setup_entry_point
    args.amp = ipose_bf16(args)
    setup_entry_point(args.device)
    logger.info('iPOSE training precision: %s', 'bfloat16 autocast' if args.amp else 'float32')
    mode = 'quick' if args.quick else args.schedule
    schedule = get_schedule(mode)
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    data_root = osp.abspath(args.data_root or osp.join(work_dir, 'data'))
    stages = StageLog()
    metrics: dict = dict(mode=mode, ipose_precision='bf16-autocast' if args.amp else 'fp32')
    manifest = stages.run('data', prepare_stage, data_root, args.seed, schedule)
    metrics['data'] = dict(
        objects=manifest['objects'],
        cached=manifest['cached'],
        preview=data_preview(data_root, osp.join(work_dir, 'toy_data.png')))
    partnet_ckpt, part_metrics = stages.run('partnet', partnet_stage, work_dir, data_root, args, schedule)
    metrics['partnet'] = part_metrics
    # the segmenter first: with --eval-every it scores the synthesized scenes during iPOSE training
    seg_ckpt, metrics['segmenter_on_real_val'] = stages.run('segmenter', segmenter_stage, work_dir, data_root, args,
                                                            schedule)
    eval_every = args.eval_every if args.eval_every is not None else schedule.get('eval_every')
    hooks = [
        SceneMIoUCurveHook(SEGMENTER_CONFIG, seg_ckpt, eval_every, osp.join(work_dir, 'ipose_curve.json'), args.device)
    ] if eval_every else []
    ipose_ckpt = stages.run('ipose', ipose_stage, work_dir, data_root, partnet_ckpt, args, schedule, hooks=hooks)
    if hooks:
        metrics['ipose_curve'] = hooks[0].curve
    metrics['synthesis'] = stages.run('evaluate', evaluate_stage, work_dir, data_root, ipose_ckpt, partnet_ckpt,
                                      seg_ckpt, args, schedule)
    metrics['seconds'] = dict(stages.timings, total=stages.total)
    with open(osp.join(work_dir, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1)
    logger.info('metrics: %s', json.dumps(metrics))
    logger.info('wrote %s in %.1f s', osp.join(work_dir, 'metrics.json'), stages.total)
    return metrics
