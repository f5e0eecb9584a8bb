"""``tools/synthesize.py``: synthesize images (and part maps) from label maps with a trained iPOSE model.

Inputs are label-map PNGs (a file or a folder); instance maps are optional (same file names in
--inst, else connected components of the object classes). For every input NAME it writes
``NAME.png`` (image), ``NAME_parts.png`` (part ids 0..8) and ``NAME_parts_color.png``.

Editing:
    --resample global | object:<instance value> | part:<instance value>:<part id>
        after the first synthesis, new noise inside that region only (paper Fig. 5); writes
        NAME_resample<i>.png for --num-samples draws.
    --supports <part category>=<folder>
        replace a category's support part maps (e.g. wheels erased) before synthesis
        (paper Fig. 6); the folder holds k single-channel part-index PNGs (first k sorted).

Examples:
    python tools/synthesize.py CONFIG CKPT labels/ --out-dir out/
    python tools/synthesize.py CONFIG CKPT label.png --inst inst.png --resample object:7001 --num-samples 3
    python tools/synthesize.py CONFIG CKPT label.png --supports 26=my_car_supports/
    python tools/synthesize.py CONFIG CKPT labels/ --precision fp32   # exact fp32 sampling
    python tools/synthesize.py CONFIG CKPT labels/ --backend onnxruntime --deploy-dir work_dirs/onnx

Backends (--backend): 'auto' (the default: OpenVINO on a CPU where the package is installed, the fastest
measured path, else eager PyTorch), 'pytorch' (eager), or the exported ONNX graphs of
tools/deployment/export_onnx.py (--deploy-dir; without it the model's folder in the export cache,
exported there once) on 'onnxruntime' or 'openvino' (``pip install mmipose[deploy]``); boxes, crops,
part pasting and editing are the same code.
With 'openvino', --precision auto runs the generator in bf16 where the CPU has it natively.
--device cuda with 'onnxruntime' uses its CUDA provider (onnxruntime-gpu). See docs/deployment.md.

Speed: sampling runs in bf16 autocast with channels-last weights where the device has native
bf16 (--precision auto, the default; on the Cityscapes model images are within PSNR 51 dB of fp32,
part maps unchanged: PartNet stays fp32), and denormals are
flushed on the CPU (--keep-denormals keeps them).
"""
import argparse
import glob
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='iPOSE synthesis from label maps')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='MMEngine checkpoint of the model')
    parser.add_argument('input', help='label-map PNG or folder of them')
    parser.add_argument('--inst', default=None, help='instance-map PNG or folder (same names)')
    parser.add_argument('--out-dir', default='work_dirs/synthesize', help='output folder')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0, help='noise seed of the first synthesis')
    parser.add_argument(
        '--resample', default=None, help="'global', 'object:<instance value>' or 'part:<instance value>:<part id>'")
    parser.add_argument('--num-samples', type=int, default=1, help='draws for --resample')
    parser.add_argument(
        '--supports',
        action='append',
        default=[],
        metavar='CATEGORY=FOLDER',
        help='replace the supports of a part category (repeatable)')
    parser.add_argument(
        '--backend',
        default='auto',
        choices=['auto', 'pytorch', 'onnxruntime', 'openvino'],
        help="who runs PartNet and the generator; 'auto': OpenVINO where installed (CPU), else pytorch "
        '(see docs/deployment.md)')
    parser.add_argument(
        '--deploy-dir', default=None, help='exported graphs (tools/deployment/export_onnx.py) for a graph backend')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default=None,
        help='override config entries, e.g. model.part_inferencer.support_bank.root=...')
    from mmipose.utils.precision import add_speed_args
    add_speed_args(parser)
    return parser.parse_args(argv)


def _inputs(path: str) -> List[str]:
    if osp.isdir(path):
        files = sorted(glob.glob(osp.join(path, '*.png')))
        if not files:
            raise FileNotFoundError(f'no .png label maps in {path}')
        return files
    if not osp.isfile(path):
        raise FileNotFoundError(f'label map {path} does not exist')
    return [path]


def _inst_for(label_path: str, inst: Optional[str]) -> Optional[str]:
    if inst is None:
        return None
    path = osp.join(inst, osp.basename(label_path)) if osp.isdir(inst) else inst
    if not osp.isfile(path):
        raise FileNotFoundError(f'instance map {path} (for {label_path}) does not exist')
    return path


def main(argv=None) -> List[str]:
    args = parse_args(argv)
    from mmipose.utils import setup_entry_point
    setup_entry_point(args.device, flush_denormals=not args.keep_denormals)
    import cv2
    import numpy as np
    from mmengine.config import Config

    from mmipose.apis import IPOSEInferencer, init_model
    from mmipose.utils.precision import speed_cfg_options
    from mmipose.visualization import colorize_parts
    cfg = Config.fromfile(args.config)
    backend = args.backend
    if backend == 'auto':  # OpenVINO where installed (CPU, iPOSE models), else eager
        from mmipose.apis.inferencer import _graph_precision
        from mmipose.deploy.onnx_backends import resolve_backend
        is_ipose = str(cfg.model.get('type', '')).split('.')[-1] == 'IPOSE'
        backend = (
            resolve_backend('auto', args.device, _graph_precision('openvino', args.precision, True))
            if is_ipose else 'pytorch')
    if backend != 'pytorch':
        # the inferencer builds the model (only what sampling needs) and checks the backend before any work
        inferencer = IPOSEInferencer(
            args.config,
            args.checkpoint,
            device=args.device,
            precision=args.precision,
            backend=backend,
            deploy_dir=args.deploy_dir,
            cfg_options=args.cfg_options)
    else:
        cfg_options = speed_cfg_options(args, cfg.model, args.device)
        cfg_options.update(args.cfg_options or {})
        # only PartNet and the EMA generator (the trained one without EMA): no D, no CLIP
        model = init_model(args.config, args.checkpoint, args.device, cfg_options=cfg_options, sample_model='auto')
        inferencer = IPOSEInferencer(model, backend='pytorch')
    for spec in args.supports:
        category, _, folder = spec.partition('=')
        files = sorted(f for f in glob.glob(osp.join(folder, '*.png')))
        if not category.isdigit() or not files:
            raise ValueError(f'--supports expects <part category>=<folder with PNGs>, got {spec!r}')
        inferencer.set_supports(int(category), files)
    os.makedirs(args.out_dir, exist_ok=True)
    written = []

    def save(name: str, result) -> None:
        paths = [
            osp.join(args.out_dir, f'{name}.png'),
            osp.join(args.out_dir, f'{name}_parts.png'),
            osp.join(args.out_dir, f'{name}_parts_color.png')
        ]
        cv2.imwrite(paths[0], result.image[..., ::-1])
        cv2.imwrite(paths[1], result.parts.astype(np.uint8))
        cv2.imwrite(paths[2], colorize_parts(result.parts)[..., ::-1])
        written.extend(paths)

    for label_path in _inputs(args.input):
        name = osp.splitext(osp.basename(label_path))[0]
        result = inferencer(label_path, _inst_for(label_path, args.inst), seed=args.seed)
        save(name, result)
        if args.resample:
            for i in range(args.num_samples):
                save(f'{name}_resample{i}', inferencer.resample(result, args.resample, seed=args.seed + 1 + i))
    print(f'wrote {len(written)} files to {args.out_dir}')
    return written


if __name__ == '__main__':
    main()
