"""The command line shared by tools/train.py and tools/test.py, and the runs they start.

One place for the arguments both tools take (``--work-dir``, ``--cfg-options``, ``--launcher``,
the speed flags), the config they build from them and the process set-up of an entry point.
"""
import argparse
import json
import os
import os.path as osp
from typing import Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmipose.apis.model_loading import use_partnet_weights_from_checkpoint
from mmipose.engine.hooks.keep_test_metrics_hook import KeepTestMetricsHook
from mmipose.utils.distributed import configure_cpu_distributed, destroy_process_group
from mmipose.utils.entry_point import setup_entry_point
from mmipose.utils.precision import add_speed_args, speed_cfg_options


def _add_common_args(parser: argparse.ArgumentParser, training: bool) -> None:
    parser.add_argument(
        '--work-dir', help='directory for logs, checkpoints and outputs '
        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='override config entries, e.g. train_cfg.max_iters=10')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none', help='job launcher')
    add_speed_args(parser, training=training)
    # torch.distributed.launch passes --local-rank (torch>=2) or --local_rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def train_parser() -> argparse.ArgumentParser:
    """The arguments of tools/train.py."""
    parser = argparse.ArgumentParser(description='Train an mmipose model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--resume', action='store_true', help='resume from the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision (AmpOptimWrapper) for every optimizer')
    _add_common_args(parser, training=True)
    return parser


def test_parser() -> argparse.ArgumentParser:
    """The arguments of tools/test.py."""
    parser = argparse.ArgumentParser(description='Test (evaluate) an mmipose model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file to evaluate')
    parser.add_argument('--out', help='JSON file for the metrics (default: <work-dir>/metrics.json)')
    _add_common_args(parser, training=False)
    return parser


def parse_train_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parsed tools/train.py arguments (``LOCAL_RANK`` set from ``--local-rank`` when absent)."""
    return _with_local_rank(train_parser().parse_args(argv))


def parse_test_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parsed tools/test.py arguments (``LOCAL_RANK`` set from ``--local-rank`` when absent)."""
    return _with_local_rank(test_parser().parse_args(argv))


def _with_local_rank(args: argparse.Namespace) -> argparse.Namespace:
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _device() -> str:
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def _load_config(args: argparse.Namespace) -> Config:
    """The config file with ``--cfg-options``, the launcher, the speed flags and the work dir."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.merge_from_dict(speed_cfg_options(args, cfg.model, _device()))
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_train_config(args: argparse.Namespace) -> Config:
    """The runner config of a training run (``--amp``, ``--resume`` applied)."""
    cfg = _load_config(args)
    if args.amp:
        enable_amp(cfg)
    if args.resume:
        cfg.resume = True
    return cfg


def build_test_config(args: argparse.Namespace) -> Config:
    """The runner config of a test run: ``load_from`` is the checkpoint.

    When the checkpoint holds the PartNet tensors, the config's PartNet weight file is dropped
    (:func:`mmipose.apis.use_partnet_weights_from_checkpoint`): the Runner builds the model
    before it loads ``load_from``, and PartNet would otherwise need its file at build time.
    """
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
    cfg = _load_config(args)
    cfg.load_from = args.checkpoint
    use_partnet_weights_from_checkpoint(cfg, args.checkpoint)
    return cfg


def enable_amp(cfg: Config) -> None:
    """Turn every OptimWrapper of the config (single or per-module dict) into a mixed-precision one.

    CUDA: ``AmpOptimWrapper`` (dynamic loss scale). CPU: ``CPUAutocastOptimWrapper`` in bfloat16,
    since MMEngine's AmpOptimWrapper requires CUDA and CPU autocast is bfloat16 only.
    """
    optim_wrapper = cfg.get('optim_wrapper')
    if optim_wrapper is None:
        raise ValueError(f'--amp: the config {cfg.filename} has no `optim_wrapper`.')
    wrappers = [optim_wrapper] if 'type' in optim_wrapper or 'optimizer' in optim_wrapper \
        else [v for k, v in optim_wrapper.items() if isinstance(v, dict) and k != 'constructor']
    on_cuda = torch.cuda.is_available()
    for wrapper in wrappers:
        if wrapper.get('type', 'OptimWrapper').split('.')[-1] in ('AmpOptimWrapper', 'CPUAutocastOptimWrapper'):
            continue
        if on_cuda:
            wrapper['type'] = 'AmpOptimWrapper'
            wrapper.setdefault('loss_scale', 'dynamic')
        else:
            # scoped name: MMSeg configs (default_scope='mmseg', e.g. the toy segmenter) look it up too
            wrapper['type'] = 'mmagic.CPUAutocastOptimWrapper'
            wrapper['dtype'] = 'bfloat16'
    if not on_cuda:
        print_log('--amp without CUDA: bfloat16 CPU autocast (CPUAutocastOptimWrapper).', logger='current')


def run_train(args: argparse.Namespace) -> None:
    """tools/train.py: set up the process, build the config and train."""
    setup_entry_point(_device(), flush_denormals=not args.keep_denormals)
    cfg = build_train_config(args)
    configure_cpu_distributed(cfg)
    try:
        Runner.from_cfg(cfg).train()
    except BaseException:
        destroy_process_group(wait_for_all=False)
        raise
    destroy_process_group()


def run_test(args: argparse.Namespace) -> dict:
    """tools/test.py: evaluate the checkpoint, write the metrics JSON (rank 0) and return them."""
    setup_entry_point(_device(), flush_denormals=not args.keep_denormals)
    cfg = build_test_config(args)
    try:
        runner = Runner.from_cfg(cfg)
        keep = KeepTestMetricsHook()
        runner.register_hook(keep)
        metrics = runner.test() or keep.metrics or {}
    except BaseException:
        destroy_process_group(wait_for_all=False)
        raise
    out = args.out or osp.join(cfg.work_dir, 'metrics.json')
    if runner.rank == 0:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump({k: float(v) if hasattr(v, '__float__') else v for k, v in metrics.items()}, f, indent=2)
        print(f'metrics written to {out}')
    destroy_process_group()
    return metrics
