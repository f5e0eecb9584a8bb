"""Look at dataset samples after the config's pipeline before a long run.

Per sample: the image with the object boxes, the label map (dataset palette), the objects of the
instance map (each in its box's colour), the 64x64 object masks PartNet sees and, where the dataset has
them (toy scenes), the ground-truth part maps. For PartNet's part dataset: object shape and part map.

Examples::

    python tools/analysis/browse_dataset.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py \\
        --split val --num 8 --grid work_dirs/browse_cityscapes.png
    python tools/analysis/browse_dataset.py CONFIG --out work_dirs/browse/   # one PNG per sample
    python tools/analysis/browse_dataset.py CONFIG --cfg-options train_dataloader.dataset.data_root=/data/x
"""
import argparse
from typing import List, Optional

from mmengine.config import Config, DictAction

from mmipose.datasets.config_dataset import build_split_dataset
from mmipose.visualization.dataset_browser import render_grid, save_png, write_sample_images


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='render dataset samples after the config pipeline')
    parser.add_argument('config', help='training config')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num', type=int, default=4, help='number of samples')
    parser.add_argument('--start', type=int, default=0, help='index of the first sample')
    parser.add_argument('--scale', type=int, default=None,
                        help='nearest up-scaling of the tiles (default: tiles at least 128 pixels high)')
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument('--out', help='folder: one PNG per sample')
    target.add_argument('--grid', help='one grid PNG of all samples')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config entries')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> List[str]:
    args = parse_args(argv)
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


if __name__ == '__main__':
    main()
