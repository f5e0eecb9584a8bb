"""Scene mIoU / AC of a trained iPOSE model under every inference backend, against eager fp32.

Synthesizes every validation scene of CONFIG once per variant with the same noise and prints a markdown
table (segmenter mIoU / AC, image and part-map difference to eager fp32); --out writes it as JSON.
Code and definitions: :mod:`mmipose.deploy.scene_quality`; see docs/deployment.md.

Example:
    python tools/analysis/backend_scene_metrics.py work_dirs/demo/ipose/ipose_tiny_1xb4-600iters_toy-64x128.py \\
        work_dirs/demo/ipose/iter_600.pth \\
        --segmenter-config configs/toy/segmenter_unet-s16_1xb8-300iters_toy-64x128.py \\
        --segmenter-checkpoint work_dirs/demo/segmenter/iter_300.pth --out work_dirs/demo/backend_scene_metrics.json
"""
import argparse
import json
import os
import os.path as osp

import torch
from mmengine.config import DictAction

from mmipose.deploy.scene_quality import VARIANTS, markdown_table, scene_quality_from_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='scene mIoU / AC of an iPOSE model under every inference backend')
    parser.add_argument('config', help='IPOSE config (its val_dataloader gives the scenes)')
    parser.add_argument('checkpoint', help='checkpoint of the model')
    parser.add_argument('--segmenter-config', required=True, help='MMSeg config of the segmenter')
    parser.add_argument('--segmenter-checkpoint', required=True, help='checkpoint of the segmenter')
    parser.add_argument(
        '--variants', nargs='+', default=list(VARIANTS), choices=VARIANTS, help='variants (pytorch-fp32 always runs)')
    parser.add_argument('--num-scenes', type=int, default=None, help='the first N val scenes only (default: all)')
    parser.add_argument('--seed', type=int, default=0, help='scene i uses the noise of seed + i')
    parser.add_argument('--deploy-dir', default=None, help='export folder of the model (default: export to a temp dir)')
    parser.add_argument(
        '--no-export-parity',
        action='store_true',
        help='export without the parity check (the table then shows the difference instead of an export error)')
    parser.add_argument('--threads', type=int, default=None, help='intra-op threads of torch and the graph backends')
    parser.add_argument('--out', default=None, help='JSON file of the results')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='overrides of the IPOSE config')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    result = scene_quality_from_config(
        args.config,
        args.checkpoint,
        args.segmenter_config,
        args.segmenter_checkpoint,
        args.variants,
        cfg_options=args.cfg_options,
        num_scenes=args.num_scenes,
        seed=args.seed,
        deploy_dir=args.deploy_dir,
        export_parity=not args.no_export_parity)
    result['threads'] = torch.get_num_threads()
    print(f"{result['num_scenes']} val scenes at {result['image_size']}, seed {args.seed}, "
          f"{result['threads']} threads; differences against pytorch-fp32 on the same noise")
    print(markdown_table(result['variants']))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=2)
        print(f'wrote {args.out}')
    return result


if __name__ == '__main__':
    main()
