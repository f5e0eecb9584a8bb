"""Scan every sample of a config's datasets once before a long run, and exit non-zero on bad data.

Prints per split: images, objects per part category and per image, object sizes, label ids seen
against the config's classes, the instance-map format found (16-bit class*256+k, Cityscapes
class*1000+k, 8-bit per-image ids, ADE20K RGB), and the problems that would train wrongly (missing or
unreadable files, image / map size mismatches, an instance format the pipeline does not expect, label
ids outside the classes, no objects at all), each naming the file. Exit status 1 when there is one.

Examples::

    python tools/analysis/check_dataset.py configs/ipose/ipose_4xb7-2112kiters_coco-stuff-256x256.py \\
        --split train val --workers 8
    python tools/analysis/check_dataset.py CONFIG --cfg-options val_dataloader.dataset.data_root=/data/x
"""
import argparse
import sys
from typing import List, Optional

from mmengine.config import Config, DictAction

from mmipose.datasets.config_dataset import build_split_dataset
from mmipose.datasets.dataset_check import check_dataset


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='scan a config dataset and report problems')
    parser.add_argument('config', help='training config')
    parser.add_argument('--split', nargs='+', default=['train', 'val'], choices=['train', 'val', 'test'])
    parser.add_argument('--workers', type=int, default=0, help='DataLoader worker processes')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
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
        report = check_dataset(dataset, args.workers, name=f'{split} ({type(dataset).__name__})',
                               progress=not args.no_progress)
        print(report.summary())
        failed |= bool(report.problems)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
