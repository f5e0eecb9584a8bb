"""Train an mmipose model (iPOSE or PartNet) from an MMEngine config.

Examples:
    python tools/train.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume --amp
    python tools/train.py CONFIG --amp --channels-last --batch-d-passes   # the speed levers
    bash tools/dist_train.sh CONFIG 4
"""
import argparse
import os
import os.path as osp
import sys
from datetime import timedelta

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import mmipose  # noqa: E402,F401  (registers mmipose components; mmcv-lite guard)
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmipose.utils import destroy_process_group  # noqa: E402
from mmipose.utils.precision import add_speed_args, speed_cfg_options  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train an mmipose model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='directory for logs and checkpoints '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument('--resume', action='store_true',
                        help='resume from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (AmpOptimWrapper) for every optimizer')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_cfg.max_iters=10')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    add_speed_args(parser, training=True)
    # torch.distributed.launch passes --local-rank (torch>=2) or --local_rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line overrides."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    cfg.merge_from_dict(speed_cfg_options(args, cfg.model, device))
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        _enable_amp(cfg)
    if args.resume:
        cfg.resume = True
    return cfg


def _enable_amp(cfg: Config) -> None:
    """Turn every OptimWrapper of the config (single or per-module dict) into AmpOptimWrapper."""
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
            # MMEngine's AmpOptimWrapper requires CUDA; CPU autocast is bfloat16 only. Scoped
            # name: MMSeg configs (default_scope='mmseg', e.g. the toy segmenter) look it up too.
            wrapper['type'] = 'mmagic.CPUAutocastOptimWrapper'
            wrapper['dtype'] = 'bfloat16'
    if not on_cuda:
        print_log('--amp without CUDA: bfloat16 CPU autocast (CPUAutocastOptimWrapper).',
                  logger='current')


def _configure_distributed(cfg: Config) -> None:
    """CPU-only distributed runs: gloo backend, CPU DDP and no SyncBN.

    MMEngine reads the backend from ``env_cfg.dist_cfg`` (the runtime says 'nccl') and passes
    ``device_ids=[LOCAL_RANK]`` to DDP, both CUDA-only. Its pytorch launcher also calls
    ``torch.cuda.set_device``, so without CUDA the process group is initialised here (env://
    variables set by torchrun) and the Runner reuses it.
    """
    if cfg.launcher == 'none' or torch.cuda.is_available():
        return
    if cfg.launcher != 'pytorch':
        raise RuntimeError(f'--launcher {cfg.launcher} needs CUDA; on CPU use --launcher pytorch '
                           '(tools/dist_train.sh CONFIG NPROC).')
    if cfg.get('env_cfg') is None:
        cfg.env_cfg = dict()
    if cfg.env_cfg.get('dist_cfg') is None:
        cfg.env_cfg.dist_cfg = dict()
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    if cfg.get('model_wrapper_cfg') is not None:
        cfg.model_wrapper_cfg['device_ids'] = None
    else:
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None,
                                     broadcast_buffers=False)
    if cfg.get('sync_bn'):
        print_log(f'sync_bn={cfg.sync_bn!r} ignored: SyncBatchNorm needs CUDA.', logger='current')
        cfg.sync_bn = None
    if not torch.distributed.is_initialized():
        dist_cfg = {k: v for k, v in cfg.env_cfg.dist_cfg.items() if k != 'backend'}
        if 'timeout' in dist_cfg and not isinstance(dist_cfg['timeout'], timedelta):
            dist_cfg['timeout'] = timedelta(seconds=dist_cfg['timeout'])
        torch.distributed.init_process_group(backend='gloo', **dist_cfg)
    print_log(f'No CUDA: distributed training on CPU with the gloo backend '
              f'(rank {torch.distributed.get_rank()} of {torch.distributed.get_world_size()}).',
              logger='current')


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = build_config(args)
    _configure_distributed(cfg)
    try:
        runner = Runner.from_cfg(cfg)
        runner.train()
    except BaseException:
        destroy_process_group(wait_for_all=False)
        raise
    destroy_process_group()


if __name__ == '__main__':
    main()
