"""Command lines of ``tools/analysis/browse_dataset.py`` and ``tools/analysis/check_dataset.py``.

``browse_dataset_main`` renders samples after a config's pipeline (see
:mod:`mmipose.visualization.dataset_browser`); ``check_dataset_main`` scans every sample once and returns
exit status 1 on data that would train wrongly (see :mod:`mmipose.datasets.dataset_check`).
"""
import argparse
from typing import List, Optional

from mmengine.config import Config, DictAction

from mmipose.datasets.config_dataset import build_split_dataset
from mmipose.datasets.dataset_check import check_dataset
from mmipose.visualization.dataset_browser import render_grid, save_png, write_sample_images


def parse_browse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='render dataset samples after the config pipeline')
    parser.add_argument('config', help='training config')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num', type=int, default=4, help='number of samples')
    parser.add_argument('--start', type=int, default=0, help='index of the first sample')
    parser.add_argument(
        '--scale',
        type=int,
        default=None,
        help='nearest up-scaling of the tiles (default: tiles at least 128 pixels high)')
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument('--out', help='folder: one PNG per sample')
    target.add_argument('--grid', help='one grid PNG of all samples')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    return parser.parse_args(argv)


def browse_dataset_main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_browse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    dataset = build_split_dataset(cfg, args.split)
    if args.grid:
        save_png(args.grid, render_grid(dataset, args.num, args.scale, args.start))
        paths = [args.grid]
    else:
        paths = write_sample_images(dataset, args.out, args.num, args.scale, args.start)
    print('\n'.join(paths))
    return paths


def parse_check_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='scan a config dataset and report problems')
    parser.add_argument('config', help='training config')
    parser.add_argument('--split', nargs='+', default=['train', 'val'], choices=['train', 'val', 'test'])
    parser.add_argument('--workers', type=int, default=0, help='DataLoader worker processes')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    return parser.parse_args(argv)


def check_dataset_main(argv: Optional[List[str]] = None) -> int:
    args = parse_check_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    failed = False
    for split in args.split:
        try:
            dataset = build_split_dataset(cfg, split, probe_objects=False)
        except Exception as error:  # e.g. a missing label map: the dataset names it
            print(f'{split}: the dataset cannot be built: {type(error).__name__}: {error}')
            failed = True
            continue
        report = check_dataset(
            dataset, args.workers, name=f'{split} ({type(dataset).__name__})', progress=not args.no_progress)
        print(report.summary())
        failed |= bool(report.problems)
    return 1 if failed else 0
