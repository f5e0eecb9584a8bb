"""Export the sampling path of a trained iPOSE model as ONNX graphs (support encoder, PartNet, generator).

Writes ``support_encoder.onnx``, ``partnet.onnx``, ``generator.onnx`` and ``deploy.json`` to --out-dir and
fails when the graphs differ from the eager fp32 model beyond 1e-4 max abs (images, part features, part
logits; part maps equal where the top-2 logits are clearly apart), at --image-size and at twice it.
See docs/deployment.md.

Example:
    python tools/deployment/export_onnx.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py \\
        work_dirs/ipose/iter_372000.pth --out-dir work_dirs/onnx --image-size 256 512
"""
import argparse

from mmipose.deploy.onnx_export import DEFAULT_OPSET, FP32_TOLERANCE, IMAGE_TOLERANCE, export_from_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='export iPOSE sampling to ONNX')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='MMEngine checkpoint of the model (loaded strictly)')
    parser.add_argument('--out-dir', required=True, help='folder of the graphs and deploy.json')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET, help='ONNX opset')
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        default=[64, 128],
        metavar=('H', 'W'),
        help='size the graphs are traced and checked at (multiples of 32; H and W stay dynamic)')
    parser.add_argument(
        '--backends',
        nargs='+',
        default=['onnxruntime', 'openvino'],
        choices=['onnxruntime', 'openvino'],
        help='backends the parity is checked on')
    parser.add_argument(
        '--tolerance', type=float, default=FP32_TOLERANCE, help='max abs difference to eager fp32 (PartNet outputs)')
    parser.add_argument(
        '--image-tolerance', type=float, default=IMAGE_TOLERANCE, help='max abs difference of images in [-1, 1]')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    manifest = export_from_config(
        args.config,
        args.checkpoint,
        args.out_dir,
        opset=args.opset,
        image_size=tuple(args.image_size),
        parity_backends=args.backends,
        tolerance=args.tolerance,
        image_tolerance=args.image_tolerance)
    for backend, sizes in manifest['parity'].items():
        for size, diffs in sizes.items():
            print(f'{backend} {size}: ' + ', '.join(f'{k} {v:.3g}' for k, v in diffs.items()))
    print(f'wrote {sorted(manifest["files"].values())} and deploy.json to {args.out_dir}')
    return manifest


if __name__ == '__main__':
    main()
