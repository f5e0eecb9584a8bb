"""Smoke-train a shipped config on tiny generated data and report EMA movement, memory and step time.

The run is ``tools/train.py``'s (same config building, ``--amp`` included) on tiny data in the
dataset's real on-disk format, written by :mod:`mmipose.testing.config_runs`, with small
widths and no validation. It prints one JSON object:

* ``ema_from_init``: L2 distance of ``generator_ema`` from its weights before the first iteration
  (0 means the EMA never updated, e.g. after a device move);
* ``ema_from_generator``: L2 distance of ``generator_ema`` from the trained generator;
* ``generator_from_init``: L2 distance of the generator from its initial weights;
* ``step_time_first_s`` / ``step_time_median_s``: seconds of the first and the median of the
  other training iterations (CUDA synchronised);
* ``peak_gpu_memory_mb`` (CUDA: ``torch.cuda.max_memory_allocated``) and ``peak_rss_mb`` (process).

It also saves ``ema_init.pth`` (the EMA generator's initial state dict) next to the checkpoints, so
the distances can be recomputed from the files. ``tools/analysis/check_gpu_run.sh`` runs it on CUDA
with and without AMP; on a CPU it runs as well (``--device cpu``).

Example::

    python tools/analysis/smoke_run_stats.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py \\
        --work-dir work_dirs/smoke --device cuda --amp --iters 5
"""
import argparse
import json
import os
import os.path as osp
import resource
import statistics
import time
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmipose.apis.runner_cli import build_train_config, parse_train_args
from mmipose.testing.config_runs import prepare_run
from mmipose.utils.entry_point import setup_entry_point


def l2_distance(a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor]) -> float:
    """sqrt(sum over common float tensors of ||a - b||^2); keys must match."""
    if set(a) != set(b):
        raise KeyError(f'state dicts differ: {sorted(set(a) ^ set(b))[:5]}')
    total = 0.0
    for key, value in a.items():
        if value.is_floating_point():
            total += float((value.double().cpu() - b[key].double().cpu()).pow(2).sum())
    return total**0.5


def parameters_of(module: torch.nn.Module) -> Dict[str, torch.Tensor]:
    """Trainable-parameter tensors (detached copies on CPU) by name."""
    return {k: v.detach().cpu().clone() for k, v in module.named_parameters()}


class StepStatsHook(Hook):
    """Records the EMA generator's initial parameters, step times and peak CUDA memory."""

    # first in every stage: the step time then excludes the checkpoint / EMA BN refresh hooks
    priority = 'HIGHEST'

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.ema_init: Optional[Dict[str, torch.Tensor]] = None
        self.times: List[float] = []
        self._start = 0.0

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if getattr(model, 'generator_ema', None) is None:
            raise ValueError('smoke_run_stats: the model has no generator_ema (no EMA in the config)')
        self.ema_init = parameters_of(model.generator_ema.module)
        torch.save(self.ema_init, osp.join(self.work_dir, 'ema_init.pth'))
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self._start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.times.append(time.perf_counter() - self._start)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a shipped iPOSE config')
    parser.add_argument('--work-dir', required=True, help='data, checkpoints and logs go here')
    parser.add_argument('--device', choices=['cuda', 'cpu'], default='cuda')
    parser.add_argument('--amp', action='store_true', help="as tools/train.py --amp")
    parser.add_argument('--iters', type=int, default=3, help='training iterations (>= 1)')
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], help='extra key=value overrides (e.g. model.generator.channels_g=64)')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('smoke_run_stats: --device cuda but torch.cuda.is_available() is False '
                         '(use --device cpu on a machine without a GPU).')
    if args.device == 'cpu' and torch.cuda.is_available():
        raise SystemExit('smoke_run_stats: --device cpu on a CUDA machine: run with '
                         'CUDA_VISIBLE_DEVICES= to keep the Runner on the CPU.')
    if args.iters < 1:
        raise SystemExit(f'smoke_run_stats: --iters must be >= 1, got {args.iters}')
    setup_entry_point(args.device)
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    opts = prepare_run(args.config, osp.join(work_dir, 'setup'), iters=args.iters, interval=args.iters)
    opts += [f'train_cfg.val_interval={10 ** 6}', 'log_level=WARNING'] + list(args.cfg_options)
    train_args = [args.config, '--work-dir', work_dir] + (['--amp'] if args.amp else [])
    cfg = build_train_config(parse_train_args(train_args + ['--cfg-options'] + opts))
    runner = Runner.from_cfg(cfg)
    stats_hook = StepStatsHook(work_dir)
    runner.register_hook(stats_hook)
    runner.train()

    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    ema = parameters_of(model.generator_ema.module)
    generator = parameters_of(model.generator)
    later = stats_hook.times[1:]
    result = dict(
        config=osp.basename(args.config),
        device=str(next(model.generator.parameters()).device),
        amp=args.amp,
        iters=args.iters,
        ema_from_init=l2_distance(ema, stats_hook.ema_init),
        ema_from_generator=l2_distance(ema, generator),
        generator_from_init=l2_distance(generator, stats_hook.ema_init),
        step_time_first_s=stats_hook.times[0],
        step_time_median_s=statistics.median(later) if later else None,
        peak_gpu_memory_mb=(torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result), flush=True)
    with open(osp.join(work_dir, 'smoke_stats.json'), 'w') as f:
        json.dump(result, f, indent=1)
    return result
