"""The paper's claim in miniature: iPOSE vs the OASIS baseline on the toy street scenes.

Both models are trained from configs/toy/ipose_tiny_*.py with the same widths, data, schedule
and seeds. The baseline differs **only in the part input**: ``model.part_inferencer=None`` (no
PartNet, no part map) and ``model.generator.part_injection='none'`` (no part-modulated
normalisation). Everything else is identical, the discriminator's global head and its loss
included (the Cityscapes ablation config configs/ablations/*oasis-baseline* also drops those;
here they stay so that the part input is the one difference).

Metrics per (model, seed) on the validation scenes, each synthesized once with the same fixed
noise for both models (z and the part noise z_part drawn from seed 0 per scene):

- scene mIoU / AC: the demo's toy scene segmenter on the synthesized images vs the input label
  maps (``SegmentationMetric``, as tools/demo.py);
- part accuracy: a small part segmenter (configs/toy/part-segmenter_*.py, trained here on the real
  toy train images with the ground-truth part maps as target) segments the synthesized images;
  the share of object pixels (ground-truth part > 0) whose predicted part id is right. Its score
  on the real val images is the ceiling;
- object-crop FD: Fréchet distance between features of real and synthesized object crops (boxes
  of the objects of the instance map, resized to --crop-size squares). Features: the scene
  segmenter's UNet bottleneck (deepest encoder stage), global-average pooled (128-d). Not FID
  (no Inception network offline); lower is better. For scale, the FD between real *train* and
  real *val* crops is reported too.

Outputs in --work-dir: ablation.md (the table, also printed), ablation.json (every number),
ablation.png (val scenes: label | GT parts | iPOSE | OASIS | real, first seed), and the
training folders of every stage.

Examples:
    python tools/analysis/toy_ablation.py --demo-dir work_dirs/demo        # reuse the demo's PartNet + segmenter
    python tools/analysis/toy_ablation.py --seeds 0 1 2 --iters 1000
    python tools/analysis/toy_ablation.py --quick --work-dir work_dirs/ablation-quick   # smoke run
"""
import argparse
import gc
import json
import logging
import math
import os
import os.path as osp
from types import SimpleNamespace
from typing import Dict, List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from mmipose.toy.ablation_metrics import (frechet_distance, mean_spread, object_crops, object_part_accuracy,
                                          object_rows, segmenter_features)
from mmipose.toy.stages import IPOSE_CONFIG, PART_SEGMENTER_CONFIG, SEGMENTER_CONFIG, build_runner
from mmipose.utils.checkpoint import find_last_checkpoint

logger = logging.getLogger('mmipose.toy_ablation')

MODELS = ('ipose', 'oasis')
MODEL_NAMES = dict(ipose='iPOSE', oasis='OASIS baseline')
#: the only difference between the two models: no part input
BASELINE_OPTIONS = {'model.part_inferencer': None, 'model.generator.part_injection': 'none'}
#: metric key -> (table name, higher is better)
METRICS = {
    'mIoU': ('scene mIoU (scene segmenter)', True),
    'AC': ('scene AC (scene segmenter)', True),
    'part_acc': ('part accuracy on object pixels (part segmenter)', True),
    'object_fd': ('object-crop FD (scene-segmenter features)', False),
}
FEATURES = ('global-average-pooled bottleneck (deepest encoder stage, 1/8 resolution) of the toy scene '
            'segmenter\'s UNet (configs/toy/segmenter_*.py), on object crops resized to {size}x{size}')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='iPOSE vs OASIS baseline on the toy scenes (several seeds)')
    parser.add_argument('--work-dir', default='work_dirs/toy_ablation', help='output folder')
    parser.add_argument(
        '--demo-dir',
        default=None,
        help='a tools/demo.py work dir: reuse its data/, partnet/partnet_toy.pth and '
        'segmenter/ checkpoint instead of training them again')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2], help='training seeds')
    parser.add_argument(
        '--iters',
        type=int,
        default=None,
        help="GAN iterations per run (default: the demo's 'full' schedule in tools/demo.py)")
    parser.add_argument(
        '--quick', action='store_true', help="smoke run with the demo's 'quick' schedule (meaningless numbers)")
    parser.add_argument('--data-seed', type=int, default=0, help='toy data seed (when not reusing --demo-dir)')
    parser.add_argument('--crop-size', type=int, default=32, help='object crop side for the FD (multiple of 8)')
    parser.add_argument('--num-show', type=int, default=6, help='val scenes in ablation.png')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    args = parser.parse_args(argv)
    if args.iters is not None and args.iters < 1:
        parser.error(f'--iters must be >= 1, got {args.iters}')
    if args.crop_size < 8 or args.crop_size % 8:
        parser.error(f'--crop-size must be a positive multiple of 8 (the UNet downsamples 3 times), '
                     f'got {args.crop_size}')
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds must be distinct, got {args.seeds}')
    return args


# --------------------------------------------------------------------------- setup
def demo_schedule(quick: bool, iters: Optional[int]) -> dict:
    """The demo's schedule (:func:`mmipose.toy.demo.get_schedule`, 'quick' or 'full'), ``iters`` GAN iterations."""
    from mmipose.toy.demo import get_schedule
    schedule = get_schedule('quick' if quick else 'full')
    if iters is not None:
        schedule['ipose_iters'] = int(iters)
    return schedule


def demo_inputs(demo_dir: str) -> dict:
    """Data folder, manifest, PartNet weights and scene-segmenter checkpoint of a demo work dir."""
    from mmipose.datasets.toy import read_manifest
    demo_dir = osp.abspath(demo_dir)
    if not osp.isdir(demo_dir):
        raise FileNotFoundError(f'--demo-dir {demo_dir} does not exist (a tools/demo.py work dir is expected)')
    data_root = osp.join(demo_dir, 'data')
    manifest = read_manifest(data_root)
    if manifest is None:
        raise FileNotFoundError(f'--demo-dir: {osp.join(data_root, "manifest.json")} not found; the toy data '
                                'of a tools/demo.py run is expected in <demo-dir>/data')
    partnet = osp.join(demo_dir, 'partnet', 'partnet_toy.pth')
    if not osp.isfile(partnet):
        raise FileNotFoundError(f'--demo-dir: PartNet weights {partnet} not found (written by the demo\'s '
                                'partnet stage)')
    segmenter = find_last_checkpoint(osp.join(demo_dir, 'segmenter'), '--demo-dir scene segmenter')
    part_dir = osp.join(demo_dir, 'part_segmenter')  # present when --demo-dir is an earlier ablation
    part_segmenter = find_last_checkpoint(part_dir, 'part segmenter') if osp.isdir(part_dir) else None
    return dict(
        data_root=data_root, manifest=manifest, partnet=partnet, segmenter=segmenter, part_segmenter=part_segmenter)


def model_options(model: str, ipose_options: dict) -> dict:
    """Config overrides of ``model`` ('ipose' | 'oasis') from the demo's iPOSE overrides.

    The toy datasets only read the data prepared before (``generate=False``): the data folder may
    be a demo's, and a dataset whose generation parameters (e.g. the seed) differed from its
    manifest would otherwise regenerate it in place.
    """
    if model not in MODELS:
        raise ValueError(f"model must be 'ipose' or 'oasis', got {model!r}")
    options = dict(ipose_options)
    options.update({f'{split}_dataloader.dataset.generate': False for split in ('train', 'val', 'test')})
    if model == 'oasis':
        options = {k: v for k, v in options.items() if not k.startswith('model.part_inferencer.')}
        options.update(BASELINE_OPTIONS)
    return options


def part_segmenter_stage(work_dir: str, data_root: str, iters: int, seed: int) -> Tuple[str, dict]:
    """Train the part segmenter on the real toy train images; its checkpoint and val scores."""
    out = osp.join(work_dir, 'part_segmenter')
    options = {f'{split}_dataloader.dataset.data_root': data_root for split in ('train', 'val', 'test')}
    options.update({
        'param_scheduler.0.end': iters,
        'train_cfg.val_interval': iters + 1,
        'default_hooks.checkpoint.interval': iters,
        'randomness.seed': seed
    })
    runner = build_runner(PART_SEGMENTER_CONFIG, out, options, iters, 'part-segmenter')
    runner.train()
    scores = {k: round(float(v), 2) for k, v in runner.val().items()}
    del runner
    gc.collect()
    return find_last_checkpoint(out, 'part segmenter'), scores


def train_gan(model: str, seed: int, work_dir: str, data_root: str, partnet: str, schedule: dict) -> str:
    """Train iPOSE or the baseline once (the demo's recipe and overrides); its checkpoint."""
    from mmipose.toy.stages import ipose_train_options
    out = osp.join(work_dir, f'{model}_seed{seed}')
    options = model_options(model, ipose_train_options(data_root, partnet, schedule, seed))
    if schedule.get('ema_refresh_batches'):  # --quick: the EMA BN refresh on one batch, not 16
        options['custom_hooks'] = [
            dict(h, num_batches=schedule['ema_refresh_batches']) if h.get('type') == 'EMABNRefreshHook' else h
            for h in options['custom_hooks']
        ]
    runner = build_runner(IPOSE_CONFIG, out, options, schedule['ipose_iters'], f'{model}-seed{seed}')
    runner.train()
    del runner
    gc.collect()
    return find_last_checkpoint(out, f'{MODEL_NAMES[model]} seed {seed}')


# --------------------------------------------------------------------------- evaluation
def read_scenes(data_root: str, split: str, count: int) -> List[dict]:
    """``count`` toy scenes of a split from disk: name, image (H,W,3 BGR), label, inst, parts."""
    import cv2
    scenes = []
    for index in range(count):
        name = f'{split}_{index:05d}'
        read = lambda kind, flag=cv2.IMREAD_UNCHANGED: cv2.imread(  # noqa: E731
            osp.join(data_root, 'scenes', split, kind, name + '.png'), flag)
        scene = dict(
            name=name,
            image=read('images', cv2.IMREAD_COLOR),
            label=read('labels'),
            inst=read('instances'),
            parts=read('parts'))
        missing = [k for k, v in scene.items() if v is None]
        if missing:
            raise FileNotFoundError(f'toy scene {name}: cannot read {missing} under {data_root}/scenes/{split}')
        scenes.append(scene)
    return scenes


class Evaluator:
    """Scores synthesized val scenes: scene mIoU/AC, part accuracy on objects, object-crop FD."""

    def __init__(self, data_root: str, num_val: int, num_train: int, segmenter_ckpt: str, part_segmenter_ckpt: str,
                 crop_size: int, device: str) -> None:
        import torch

        from mmipose.evaluation.mmseg_segmenter import build_segmenter
        from mmipose.evaluation.segmentation_metric import SegmentationMetric
        self.crop_size, self.device = crop_size, device
        self.seg_metric = SegmentationMetric(
            segmenter_config=SEGMENTER_CONFIG, segmenter_checkpoint=segmenter_ckpt, device=device)
        self.part_segmenter = build_segmenter(PART_SEGMENTER_CONFIG, part_segmenter_ckpt).to(device)
        self.val = read_scenes(data_root, 'val', num_val)
        self.by_name = {s['name']: s for s in self.val}
        self.boxes = {s['name']: self._boxes(s['inst']) for s in self.val}
        reals = [torch.from_numpy(s['image']).permute(2, 0, 1).float() for s in self.val]
        self.real_feats = self._features(reals, [self.boxes[s['name']] for s in self.val])
        train = read_scenes(data_root, 'train', min(num_val, num_train))
        self.train_feats = self._features([torch.from_numpy(s['image']).permute(2, 0, 1).float() for s in train],
                                          [self._boxes(s['inst']) for s in train])

    @staticmethod
    def _boxes(inst: np.ndarray) -> np.ndarray:
        return object_rows(inst)

    def _features(self, images: list, boxes: list) -> np.ndarray:
        import torch
        crops = torch.cat([object_crops(img, b, self.crop_size) for img, b in zip(images, boxes)])
        return segmenter_features(self.seg_metric.segmenter, crops)

    def reference(self) -> dict:
        """The same metrics on the real val images: the ceiling (FD: real train vs real val crops)."""
        import torch
        images = {s['name']: torch.from_numpy(s['image']).permute(2, 0, 1).float() for s in self.val}
        scores = self.score(images)
        scores['object_fd'] = frechet_distance(self.train_feats, self.real_feats)
        return scores

    def score(self, fakes: Dict[str, 'object']) -> dict:
        """Metrics of {scene name: (3,H,W) BGR [0,255] tensor} over all val scenes."""
        import torch

        from mmipose.evaluation.mmseg_segmenter import segment
        if set(fakes) != set(self.by_name):
            raise ValueError(f'Evaluator: images of {len(fakes)} scenes given, {len(self.by_name)} val scenes expected')
        names = [s['name'] for s in self.val]
        correct = counted = 0
        for start in range(0, len(names), 16):
            chunk = names[start:start + 16]
            images = torch.stack([fakes[n].float() for n in chunk])
            labels = [torch.from_numpy(self.by_name[n]['label'].astype(np.int64))[None] for n in chunk]
            self.seg_metric.process(None, [dict(fake_img=img, label=lab) for img, lab in zip(images, labels)])
            pred = segment(self.part_segmenter, images, tuple(images.shape[-2:])).cpu().numpy()
            c, n = object_part_accuracy(pred, np.stack([self.by_name[n]['parts'] for n in chunk]))
            correct, counted = correct + c, counted + n
        seg = self.seg_metric.evaluate(len(names))
        fake_feats = self._features([fakes[n] for n in names], [self.boxes[n] for n in names])
        return dict(
            mIoU=float(seg['Seg/mIoU']),
            AC=float(seg['Seg/AC']),
            part_acc=100.0 * correct / max(counted, 1),
            object_fd=frechet_distance(fake_feats, self.real_feats),
            object_crops=int(len(fake_feats)))


def schedule_size(data_root: str) -> Tuple[int, int]:
    """(H, W) of the toy scenes (from the data manifest)."""
    from mmipose.datasets.toy import read_manifest
    params = read_manifest(data_root)['params']
    return int(params['height']), int(params['width'])


def synthesize(ckpt: str, model: str, data_root: str, partnet: str, schedule: dict, device: str) -> dict:
    """Every val scene once, with noise fixed per scene (seed 0): {scene name: (3,H,W) BGR tensor}."""
    import torch
    from mmengine.runner import Runner

    from mmipose.apis import init_model
    from mmipose.toy.stages import ipose_data_options
    options = model_options(model, ipose_data_options(data_root, partnet, schedule))
    net = init_model(IPOSE_CONFIG, ckpt, device, cfg_options=options)
    dataloader = Runner.build_dataloader(net.cfg.val_dataloader)
    gen = net.generator_ema.module if net.with_ema_gen else net.generator
    height, width = schedule_size(data_root)
    g = torch.Generator().manual_seed(0)
    count = len(dataloader.dataset)
    z = torch.randn(count, gen.z_dim, generator=g)  # drawn first: the same for both models
    z_part = torch.randn(count, gen.part_nc - 1, *gen.latent_size((height, width)), generator=g)
    fakes, done = {}, 0
    for batch in tqdm(dataloader, desc=f'synthesize {model}', unit='batch', dynamic_ncols=True):
        size = len(batch['data_samples'])
        batch['inputs']['z'] = list(z[done:done + size])
        batch['inputs']['z_part'] = list(z_part[done:done + size])
        for sample in net.val_step(batch):
            fakes[sample.metainfo['image_name']] = sample.fake_img.detach().float().cpu()
        done += size
    del net
    gc.collect()
    return fakes


# --------------------------------------------------------------------------- report
def summarize(runs: Dict[str, Dict[int, dict]]) -> dict:
    return {
        model: {
            key: mean_spread([per_seed[key] for per_seed in seeds.values()])
            for key in METRICS
        }
        for model, seeds in runs.items()
    }


def markdown_table(summary: dict, reference: dict, seeds: List[int], iters: int, crop_size: int) -> str:

    def cell(stats: dict) -> str:
        return f"{stats['mean']:.2f} ± {stats['std']:.2f} ({stats['min']:.2f}–{stats['max']:.2f})"

    lines = [
        f'iPOSE vs OASIS baseline on the toy val scenes: {iters} GAN iterations, seeds {seeds}; '
        'mean ± std (min–max) over seeds.', '',
        f'| metric | {MODEL_NAMES["ipose"]} | {MODEL_NAMES["oasis"]} | real images |', '|---|---|---|---|'
    ]
    for key, (name, higher) in METRICS.items():
        arrow = '↑' if higher else '↓'
        ref = f"{reference[key]:.2f}" + (' (train vs val crops)' if key == 'object_fd' else '')
        lines.append(f'| {name} {arrow} | {cell(summary["ipose"][key])} | {cell(summary["oasis"][key])} | {ref} |')
    lines += [
        '', 'The baseline differs only in the part input (no PartNet, part_injection none). '
        f'FD features: {FEATURES.format(size=crop_size)}.'
    ]
    return '\n'.join(lines) + '\n'


def picture(path: str, scenes: List[dict], fakes: Dict[str, dict], palette) -> str:
    """label | GT parts | iPOSE | OASIS | real for the first scenes."""
    import cv2

    from mmipose.visualization import colorize_label, colorize_parts
    from mmipose.visualization.sample_grid import make_grid, tensor_to_rgb
    up = lambda a: np.repeat(np.repeat(a, 2, 0), 2, 1)  # noqa: E731
    rows = [[
        up(colorize_label(s['label'], palette=palette)),
        up(colorize_parts(s['parts'])),
        up(tensor_to_rgb(fakes['ipose'][s['name']])),
        up(tensor_to_rgb(fakes['oasis'][s['name']])),
        up(s['image'][..., ::-1])
    ] for s in scenes]
    grid = make_grid(rows, titles=['label', 'GT parts', MODEL_NAMES['ipose'], MODEL_NAMES['oasis'], 'real'])
    cv2.imwrite(path, grid[..., ::-1])
    return path


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    from mmipose.utils.entry_point import setup_entry_point
    setup_entry_point(args.device)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s ablation %(message)s', datefmt='%H:%M:%S')
    from mmengine.config import Config

    from mmipose.datasets.toy.spec import TOY_PALETTE
    from mmipose.toy.stages import partnet_stage, prepare_stage, segmenter_stage
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    schedule = demo_schedule(args.quick, args.iters)
    if args.quick:
        schedule['ema_refresh_batches'] = 1
    stage_args = SimpleNamespace(seed=args.data_seed, device=args.device)
    reused = dict(partnet=False, segmenter=False, part_segmenter=False)
    if args.demo_dir:
        demo = demo_inputs(args.demo_dir)
        data_root = demo['data_root']
        # the demo's data as they are: their scene counts, so nothing is regenerated
        params = demo['manifest']['params']
        schedule.update(num_train=params['num_train'], num_val=params['num_val'])
        partnet, segmenter, part_segmenter = demo['partnet'], demo['segmenter'], demo['part_segmenter']
        reused.update(partnet=True, segmenter=True, part_segmenter=part_segmenter is not None)
        logger.info('reusing %s: data %s, PartNet %s, segmenter %s', args.demo_dir, data_root, partnet, segmenter)
    else:
        data_root = osp.join(work_dir, 'data')
        prepare_stage(data_root, args.data_seed, schedule)
        partnet, _ = partnet_stage(work_dir, data_root, stage_args, schedule)
        segmenter, _ = segmenter_stage(work_dir, data_root, stage_args, schedule)
        part_segmenter = None
    part_seg_scores = None
    if part_segmenter is None:
        iters = (
            schedule['segmenter_iters'] if args.quick else Config.fromfile(PART_SEGMENTER_CONFIG).train_cfg.max_iters)
        part_segmenter, part_seg_scores = part_segmenter_stage(work_dir, data_root, iters, args.data_seed)
        logger.info('part segmenter on real val images: %s', part_seg_scores)

    evaluator = Evaluator(data_root, schedule['num_val'], schedule['num_train'], segmenter, part_segmenter,
                          args.crop_size, args.device)
    reference = evaluator.reference()
    logger.info('real val images: %s', reference)
    runs: Dict[str, Dict[int, dict]] = {m: {} for m in MODELS}
    shown: Dict[str, dict] = {}
    for seed in args.seeds:
        for model in MODELS:
            ckpt = train_gan(model, seed, work_dir, data_root, partnet, schedule)
            fakes = synthesize(ckpt, model, data_root, partnet, schedule, args.device)
            runs[model][seed] = evaluator.score(fakes)
            logger.info('%s seed %d: %s', MODEL_NAMES[model], seed, runs[model][seed])
            if seed == args.seeds[0]:
                shown[model] = {s['name']: fakes[s['name']] for s in evaluator.val[:args.num_show]}
    summary = summarize(runs)
    table = markdown_table(summary, reference, args.seeds, schedule['ipose_iters'], args.crop_size)
    image = picture(
        osp.join(work_dir, 'ablation.png'), evaluator.val[:args.num_show], shown, np.asarray(TOY_PALETTE, np.uint8))
    result = dict(
        models={m: MODEL_NAMES[m]
                for m in MODELS},
        seeds=args.seeds,
        schedule=schedule,
        baseline_options={
            k: v
            for k, v in BASELINE_OPTIONS.items()
        },
        demo_dir=args.demo_dir,
        reused=reused,
        features=FEATURES.format(size=args.crop_size),
        part_segmenter_on_real_val=part_seg_scores,
        reference_real_images=reference,
        runs={
            m: {
                str(s): v
                for s, v in seeds.items()
            }
            for m, seeds in runs.items()
        },
        summary=summary,
        picture=image)
    bad = [
        f'{m}/{s}/{k}' for m, seeds in runs.items() for s, v in seeds.items() for k, x in v.items() if not _finite(x)
    ]
    if bad:
        logger.warning('non-finite metrics: %s', bad)
    with open(osp.join(work_dir, 'ablation.json'), 'w') as f:
        json.dump(result, f, indent=1)
    with open(osp.join(work_dir, 'ablation.md'), 'w') as f:
        f.write(table)
    print(table)
    logger.info('wrote %s, ablation.json and ablation.png in %s', 'ablation.md', work_dir)
    return result
