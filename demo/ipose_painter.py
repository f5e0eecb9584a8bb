"""Serve the iPOSE painter in a browser: paint a label map, synthesize, redraw objects and parts, edit parts.

Examples:
    python demo/ipose_painter.py                       # the model `make demo` trained (work_dirs/demo)
    python demo/ipose_painter.py CONFIG CHECKPOINT --port 7860
    python demo/ipose_painter.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py \\
        checkpoints/ipose_cityscapes.pth              # a converted official checkpoint, 256x512

docs/painter.md describes the page.
"""
import argparse
import sys

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='iPOSE painter (a local web page)')
    parser.add_argument('config', nargs='?', help='model config (default: the `make demo` model)')
    parser.add_argument('checkpoint', nargs='?', help='model checkpoint (MMEngine or converted official)')
    parser.add_argument('--demo-dir', default='work_dirs/demo', help='where `make demo` wrote its outputs')
    parser.add_argument('--host', default='127.0.0.1', help='address to serve on (0.0.0.0: every interface)')
    parser.add_argument('--port', type=int, default=7860, help='port (0: any free port)')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    parser.add_argument('--size', default=None, help="canvas HxW, multiples of 32 (default: the config's working size)")
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument(
        '--backend',
        default='auto',
        choices=['auto', 'pytorch', 'onnxruntime', 'openvino'],
        help="who runs PartNet and the generator ('auto': OpenVINO where installed, else pytorch)")
    parser.add_argument(
        '--precision',
        default='auto',
        choices=['auto', 'fp32', 'bf16', 'fp16'],
        help="generator precision ('auto': bf16 where the device runs it natively, else fp32)")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default=None,
        metavar='KEY=VALUE',
        help='config overrides, e.g. model.part_inferencer.support_bank.root=data/supports')
    args = parser.parse_args(argv)
    if (args.config is None) != (args.checkpoint is None):
        parser.error('give both CONFIG and CHECKPOINT, or neither (then the `make demo` model is served)')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmipose.painter import PainterSession, demo_model_files
    from mmipose.painter.app import build_app
    from mmipose.utils.precision import set_flush_denormal
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    if args.device == 'cpu':
        set_flush_denormal(True)
    config, checkpoint = args.config, args.checkpoint
    if config is None:
        try:
            config, checkpoint = demo_model_files(args.demo_dir)
        except FileNotFoundError as error:
            print(f'ipose_painter: {error}', file=sys.stderr)
            return 2
    size = tuple(int(s) for s in args.size.lower().split('x')) if args.size else None
    session = PainterSession(
        config,
        checkpoint,
        device=args.device,
        size=size,
        cfg_options=args.cfg_options,
        backend=args.backend,
        precision=args.precision)
    if session.load_error:
        print(
            f'ipose_painter: {session.load_error}\n(the page shows this message; fix the files and restart)',
            file=sys.stderr)
    app = build_app(session)
    print(f'ipose_painter: serving {config} at http://{args.host}:{args.port or "<free port>"}', flush=True)
    app.queue().launch(server_name=args.host, server_port=args.port or None, show_api=False, inbrowser=False)
    return 0


if __name__ == '__main__':
    sys.exit(main())
