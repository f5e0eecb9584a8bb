"""Evaluate a trained mmipose model and save its outputs.

Examples:
    python tools/test.py CONFIG CHECKPOINT --work-dir work_dirs/eval
    python tools/test.py CONFIG CHECKPOINT --out work_dirs/eval/metrics.json
    bash tools/dist_test.sh CONFIG CHECKPOINT 4
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import mmipose  # noqa: E402,F401  (registers mmipose components; mmcv-lite guard)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmipose.apis import use_partnet_weights_from_checkpoint  # noqa: E402
from mmipose.utils import destroy_process_group  # noqa: E402
from mmipose.utils.precision import add_speed_args, speed_cfg_options  # noqa: E402


class _KeepTestMetrics(Hook):
    """MMagic's MultiTestLoop.run returns None; its metrics only reach after_test_epoch."""
    priority = 'LOWEST'

    def __init__(self):
        self.metrics = None

    def after_test_epoch(self, runner, metrics=None):
        self.metrics = metrics


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) an mmipose model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file to evaluate')
    parser.add_argument('--work-dir', help='directory for logs and saved outputs '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument('--out', help='JSON file for the metrics '
                        '(default: <work-dir>/metrics.json)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    add_speed_args(parser)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args: argparse.Namespace) -> Config:
    """The runner config: the file with ``--cfg-options``, work dir and ``load_from`` applied.

    When the checkpoint holds the PartNet tensors, the config's PartNet weight file is dropped
    (:func:`mmipose.apis.use_partnet_weights_from_checkpoint`): the Runner builds the model
    before it loads ``load_from``, and PartNet would otherwise need its file at build time.
    """
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint file not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    import torch
    cfg.merge_from_dict(speed_cfg_options(
        args, cfg.model, 'cuda' if torch.cuda.is_available() else 'cpu'))
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    use_partnet_weights_from_checkpoint(cfg, args.checkpoint)
    return cfg


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = build_config(args)

    try:
        runner = Runner.from_cfg(cfg)
        keep = _KeepTestMetrics()
        runner.register_hook(keep)
        metrics = runner.test() or keep.metrics or {}
    except BaseException:
        destroy_process_group(wait_for_all=False)
        raise

    out = args.out or osp.join(cfg.work_dir, 'metrics.json')
    if runner.rank == 0:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump({k: float(v) if hasattr(v, '__float__') else v for k, v in metrics.items()},
                      f, indent=2)
        print(f'metrics written to {out}')
    destroy_process_group()
    return metrics


if __name__ == '__main__':
    main()
