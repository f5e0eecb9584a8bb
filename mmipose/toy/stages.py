"""The stages of the toy demo (:mod:`mmipose.toy.demo`) and the toy ablation: data, PartNet, segmenter,
iPOSE, evaluation and editing pictures."""
import glob
import logging
import os
import os.path as osp
import shutil
from typing import Dict, Optional, Tuple

from tqdm import tqdm

from mmipose.datasets.object_boxes import INSTANCE_OFFSET
from mmipose.utils.checkpoint import find_last_checkpoint

logger = logging.getLogger('mmipose.demo')


def _configs_dir() -> str:
    """``configs/`` of a source checkout, else the copy a wheel ships in ``mmipose/.mim/``."""
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for candidate in (osp.join(osp.dirname(package), 'configs'), osp.join(package, '.mim', 'configs')):
        if osp.isdir(candidate):
            return candidate
    raise FileNotFoundError(f'no configs/ folder next to {package} or in its .mim/ (a broken install?)')


TOY_CONFIGS = osp.join(_configs_dir(), 'toy')
PARTNET_CONFIG = osp.join(TOY_CONFIGS, 'partnet_1xb4-600iters_toy-64x64.py')
IPOSE_CONFIG = osp.join(TOY_CONFIGS, 'ipose_tiny_1xb4-600iters_toy-64x128.py')
SEGMENTER_CONFIG = osp.join(TOY_CONFIGS, 'segmenter_unet-s16_1xb8-300iters_toy-64x128.py')
PART_SEGMENTER_CONFIG = osp.join(TOY_CONFIGS, 'part-segmenter_unet-s16_1xb8-300iters_toy-64x128.py')


def build_runner(config: str,
                 work_dir: str,
                 options: dict,
                 max_iters: int,
                 desc: str,
                 extra_hooks: Optional[list] = None,
                 amp: bool = False):
    """A Runner for a config through tools/train.py's config handling, with a progress bar.

    Args:
        config (str): config file.
        work_dir (str): the run's work dir.
        options (dict): ``--cfg-options`` overrides.
        max_iters (int): training iterations.
        desc (str): the run's name (progress bar, experiment name).
        extra_hooks (list, optional): hook configs added to ``custom_hooks``.
        amp (bool): as ``tools/train.py --amp`` (bfloat16 autocast on a CPU).
    """
    from mmengine.runner import Runner

    from mmipose.apis.runner_cli import build_train_config, parse_train_args
    from mmipose.engine.hooks import ProgressBarHook
    cfg_options = dict(options)
    cfg_options['train_cfg.max_iters'] = max_iters
    cfg = build_train_config(parse_train_args([config, '--work-dir', work_dir] + (['--amp'] if amp else [])))
    cfg.merge_from_dict(cfg_options)
    cfg.log_level = 'WARNING'
    cfg.experiment_name = f'demo-{desc}-{os.getpid()}'
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + list(extra_hooks or [])
    runner = Runner.from_cfg(cfg)
    runner.register_hook(ProgressBarHook(max_iters, desc), priority='VERY_LOW')
    return runner


# --------------------------------------------------------------------------- stages
def prepare_stage(data_root: str, seed: int, schedule: dict) -> dict:
    from mmipose.datasets.toy import prepare_toy_data
    manifest = prepare_toy_data(data_root, seed=seed, num_train=schedule['num_train'], num_val=schedule['num_val'])
    logger.info('toy data in %s (%s): objects per part category %s', data_root,
                'cached' if manifest['cached'] else f'generated in {manifest["seconds"]} s', manifest['objects'])
    return manifest


def data_preview(data_root: str, out_path: str, num_scenes: int = 4) -> str:
    """Picture of the toy data: scenes (image | label | instances | parts) and the supports."""
    import cv2
    import numpy as np

    from mmipose.datasets.toy.spec import TOY_PALETTE
    from mmipose.visualization import colorize_label, colorize_parts, label_palette
    from mmipose.visualization.sample_grid import make_grid
    up = lambda a, f=2: np.repeat(np.repeat(a, f, 0), f, 1)  # noqa: E731
    rows = []
    for i in range(num_scenes):
        name = f'val_{i:05d}.png'
        read = lambda kind: cv2.imread(osp.join(data_root, 'scenes', 'val', kind, name), cv2.IMREAD_UNCHANGED)  # noqa
        inst = read('instances').astype(np.int64)
        inst_ids = np.where(inst >= INSTANCE_OFFSET, inst % INSTANCE_OFFSET + 10 * (inst // INSTANCE_OFFSET - 5), 0)
        rows.append([
            up(read('images')[..., ::-1]),
            up(colorize_label(read('labels'), palette=TOY_PALETTE)),
            up(colorize_label(inst_ids, palette=label_palette(64))),
            up(colorize_parts(read('parts')))
        ])
    scenes = make_grid(rows, titles=['image', 'label', 'instances', 'parts'])
    supports = []
    for category in sorted(os.listdir(osp.join(data_root, 'supports')), key=int):
        files = sorted(glob.glob(osp.join(data_root, 'supports', category, '*_part.png')))
        supports.append([colorize_parts(cv2.imread(f, cv2.IMREAD_UNCHANGED)) for f in files])
    support_grid = make_grid(supports, titles=[f'support {k}' for k in range(len(supports[0]))])
    canvas = np.full((max(scenes.shape[0], support_grid.shape[0]), scenes.shape[1] + support_grid.shape[1], 3), 255,
                     np.uint8)
    canvas[:scenes.shape[0], :scenes.shape[1]] = scenes
    canvas[:support_grid.shape[0], scenes.shape[1]:] = support_grid
    cv2.imwrite(out_path, canvas[..., ::-1])
    return out_path


def segmenter_stage(work_dir: str, data_root: str, args, schedule: dict) -> Tuple[str, dict]:
    """Train the small MMSeg segmenter on the real toy images; returns its checkpoint and its
    aAcc / mIoU on the real val images."""
    iters = schedule['segmenter_iters']
    seg_dir = osp.join(work_dir, 'segmenter')
    options = {f'{split}_dataloader.dataset.data_root': data_root for split in ('train', 'val', 'test')}
    options.update({
        'param_scheduler.0.end': iters,
        'train_cfg.val_interval': iters + 1,
        'default_hooks.checkpoint.interval': iters,
        'randomness.seed': args.seed
    })
    runner = build_runner(SEGMENTER_CONFIG, seg_dir, options, iters, 'segmenter')
    runner.train()
    # its score on the *real* val images: the ceiling for the synthesized ones
    real = {k: round(float(v), 2) for k, v in runner.val().items()}
    logger.info('toy segmenter on real val images: %s', real)
    return find_last_checkpoint(seg_dir, 'segmenter'), real


def partnet_data_options(data_root: str) -> dict:
    """Config overrides that point the toy PartNet config at the demo's data."""
    parts = osp.join(data_root, 'part_dataset')
    return {
        'model.support_bank.root': osp.join(data_root, 'supports'),
        'model.pool_root': parts,
        'train_dataloader.dataset.data_root': parts,
        'val_dataloader.dataset.data_root': parts,
        'test_dataloader.dataset.data_root': parts
    }


def ipose_data_options(data_root: str, partnet_weights: str, schedule: dict) -> dict:
    """Config overrides that point the toy iPOSE config at the demo's data and PartNet weights."""
    options = {
        'model.part_inferencer.support_bank.root': osp.join(data_root, 'supports'),
        'model.part_inferencer.partnet.checkpoint': partnet_weights
    }
    for split in ('train', 'val', 'test'):
        # the data stage prepared the data (with the demo's --seed): read it, never regenerate
        # (the dataset's own default seed would otherwise replace scenes made with another seed)
        options.update({
            f'{split}_dataloader.dataset.data_root': data_root,
            f'{split}_dataloader.dataset.num_train': schedule['num_train'],
            f'{split}_dataloader.dataset.num_val': schedule['num_val'],
            f'{split}_dataloader.dataset.generate': False
        })
    return options


def partnet_stage(work_dir: str, data_root: str, args, schedule: dict) -> Tuple[str, dict]:
    """Pretrain PartNet on the basis toy categories; part accuracy on basis and novel val crops."""
    iters = schedule['partnet_iters']
    part_dir = osp.join(work_dir, 'partnet')
    options = partnet_data_options(data_root)
    options.update({
        'train_cfg.val_interval': iters + 1,
        'default_hooks.checkpoint.interval': iters,
        'param_scheduler.0.end': iters,
        'randomness.seed': args.seed
    })
    runner = build_runner(PARTNET_CONFIG, part_dir, options, iters, 'partnet')
    runner.train()
    metrics = {k.split('/')[-1]: round(float(v), 2) for k, v in runner.val().items()}
    for group in ('basis', 'novel'):
        if f'{group}_obj_acc' in metrics:
            logger.info(
                'PartNet %s categories: %.1f %% of object pixels right (best constant part: %.1f %%); '
                '%.1f %% of whole crops', group, metrics[f'{group}_obj_acc'], metrics[f'{group}_obj_baseline'],
                metrics[f'{group}_acc'])
    # PartNet alone (PartNet(checkpoint=...) reads plain PartNet state dicts)
    import torch

    from mmipose.utils.official_checkpoint import make_checkpoint
    state = {k[len('partnet.'):]: v for k, v in runner.model.state_dict().items() if k.startswith('partnet.')}
    weights = osp.join(part_dir, 'partnet_toy.pth')
    torch.save(make_checkpoint(state, dict(source='tools/demo.py toy PartNet pretraining')), weights)
    return weights, metrics


def ipose_train_options(data_root: str, partnet_ckpt: str, schedule: dict, seed: int) -> dict:
    """Config overrides of the demo's iPOSE training run."""
    iters = schedule['ipose_iters']
    options = ipose_data_options(data_root, partnet_ckpt, schedule)
    options.update({
        'train_cfg.val_interval':
        iters + 1,
        'default_hooks.checkpoint.interval':
        iters,
        'randomness.seed':
        seed,
        # refresh the EMA generator's BN statistics at the last iteration, before the
        # checkpoint is written (the evaluation loads the checkpoint): the hook's
        # after-train refresh comes after the checkpoint and was never saved
        'custom_hooks': [
            dict(type='PartCacheWarmupHook', batch_size=16),
            dict(type='EMABNRefreshHook', interval=iters, num_batches=16)
        ]
    })
    if 'ema_momentum' in schedule:
        options['model.ema_config.momentum'] = schedule['ema_momentum']
    return options


def ipose_stage(work_dir: str,
                data_root: str,
                partnet_ckpt: str,
                args,
                schedule: dict,
                hooks: Optional[list] = None) -> str:
    """Train iPOSE (reduced widths) on the toy scenes with the pretrained, frozen PartNet.
    ``hooks``: extra hook objects (e.g. ``SceneMIoUCurveHook``); ``args.amp``: bfloat16 autocast
    (``tools/train.py --amp``)."""
    iters = schedule['ipose_iters']
    ipose_dir = osp.join(work_dir, 'ipose')
    options = ipose_train_options(data_root, partnet_ckpt, schedule, args.seed)
    grid_hook = dict(type='IPOSESampleGridHook', interval=max(1, iters // 4), num_samples=4, scale=2)
    runner = build_runner(
        IPOSE_CONFIG, ipose_dir, options, iters, 'ipose', extra_hooks=[grid_hook], amp=getattr(args, 'amp', False))
    for hook in hooks or []:
        runner.register_hook(hook)
    runner.train()
    return find_last_checkpoint(ipose_dir, 'iPOSE')


# --------------------------------------------------------------------------- evaluation
def _synthesize_val(model, dataloader, num_grids: int, grid_dir: str, palette):
    """Synthesize every validation scene once; save grids; return samples for the metrics."""
    import cv2
    import torch

    from mmipose.visualization.sample_grid import samples_to_grid
    os.makedirs(grid_dir, exist_ok=True)
    outputs, batches, shown = [], [], []
    torch.manual_seed(0)
    for batch in tqdm(dataloader, desc='synthesize val', unit='batch', dynamic_ncols=True):
        samples = model.val_step(batch)
        for sample in samples:
            if len(shown) < num_grids:
                name = sample.metainfo.get('image_name', f'sample_{len(shown):03d}')
                grid = samples_to_grid([sample], palette, scale=3)
                cv2.imwrite(osp.join(grid_dir, f'{name}.png'), grid[..., ::-1])
                shown.append(sample)
        outputs.append(samples)
        batches.append(batch)
    if shown:  # the first four scenes in one picture (the README shows it)
        overview = samples_to_grid(shown[:4], palette, scale=2)
        cv2.imwrite(osp.join(grid_dir, 'overview.png'), overview[..., ::-1])
    return batches, outputs


def evaluate_stage(work_dir: str, data_root: str, ipose_ckpt: str, partnet_ckpt: str, seg_ckpt: str, args,
                   schedule: dict) -> dict:
    """mIoU / AC of synthesized val scenes through the toy segmenter, FID if possible, pictures."""
    import numpy as np
    from mmengine.runner import Runner

    from mmipose.apis import init_model
    from mmipose.registry import METRICS
    options = ipose_data_options(data_root, partnet_ckpt, schedule)
    model = init_model(IPOSE_CONFIG, ipose_ckpt, args.device, cfg_options=options)
    cfg = model.cfg
    dataloader = Runner.build_dataloader(cfg.val_dataloader)
    palette = np.asarray(dataloader.dataset.metainfo['palette'], np.uint8)
    batches, outputs = _synthesize_val(model, dataloader, schedule['num_grids'], osp.join(work_dir, 'grids'), palette)
    results: Dict[str, object] = {}
    seg_metric = METRICS.build(
        dict(
            type='SegmentationMetric',
            segmenter_config=SEGMENTER_CONFIG,
            segmenter_checkpoint=seg_ckpt,
            device=args.device))
    for batch, samples in zip(batches, outputs):
        seg_metric.process(batch, [s.to_dict() for s in samples])
    results['segmentation'] = {k: float(v) for k, v in seg_metric.evaluate(len(dataloader.dataset)).items()}
    results['fid'] = fid_or_reason(args, batches, outputs, len(dataloader.dataset))
    results['editing'] = editing_pictures(model, dataloader.dataset, work_dir, args)
    return results


def fid_or_reason(args, batches, outputs, size: int) -> dict:
    if not args.inception or not osp.isfile(args.inception):
        return dict(skipped='no Inception weights on this machine (offline). Pass --inception '
                    'path/to/pt_inception-2015-12-05-6726825d.pth to compute FID.')
    from mmipose.registry import METRICS
    metric = METRICS.build(
        dict(
            type='FrechetInceptionDistance',
            prefix='FID',
            fake_nums=size,
            inception_style='PyTorch',
            inception_path=args.inception,
            real_key='gt_img',
            fake_key='fake_img',
            sample_model='ema'))
    for batch, samples in zip(batches, outputs):
        metric.process(batch, [s.to_dict() for s in samples])
    return {k: float(v) for k, v in metric.evaluate().items()}


# --------------------------------------------------------------------------- editing pictures
def _pick_scene(dataset, label_id: int):
    """The validation scene with the largest object of class ``label_id`` (its info and value)."""
    import cv2
    import numpy as np
    best = None
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        inst = cv2.imread(info['inst_path'], cv2.IMREAD_UNCHANGED).astype(np.int64)
        values, counts = np.unique(inst[inst // INSTANCE_OFFSET == label_id], return_counts=True)
        if len(values) and (best is None or counts.max() > best[2]):
            best = (info, int(values[counts.argmax()]), int(counts.max()))
    if best is None:
        raise RuntimeError(f'no validation scene contains class {label_id}')
    return best[0], best[1]


def editing_pictures(model, dataset, work_dir: str, args) -> dict:
    """Paper Fig. 5 (noise resampled globally / in one object / in one part) and Fig. 6 (supports
    edited: car wheels turned into chassis) on a validation scene with a car."""
    import cv2
    import numpy as np

    from mmipose.apis import IPOSEInferencer
    from mmipose.datasets.toy.spec import CAR, TOY_PART_CATEGORIES
    from mmipose.visualization import colorize_label, colorize_parts
    from mmipose.visualization.sample_grid import make_grid
    out_dir = osp.join(work_dir, 'editing')
    os.makedirs(out_dir, exist_ok=True)
    palette = np.asarray(dataset.metainfo['palette'], np.uint8)
    # eager: the pictures come from the same model (and precision) that the demo's metrics measured
    inferencer = IPOSEInferencer(model, part_categories=TOY_PART_CATEGORIES, backend='pytorch')
    info, car = _pick_scene(dataset, CAR)
    base = inferencer(info['label_path'], info['inst_path'], seed=0)
    up = lambda a: np.repeat(np.repeat(a, 3, 0), 3, 1)  # noqa: E731
    chassis = 5
    rows = [[up(colorize_label(base.label, palette=palette)), up(colorize_parts(base.parts)), up(base.image)]]
    titles = ['global', f'object {car}', f'part {chassis} of {car}']
    for region in ('global', f'object:{car}', f'part:{car}:{chassis}'):
        rows.append([up(inferencer.resample(base, region, seed=s).image) for s in (1, 2, 3)])
    multimodal = make_grid(rows)
    cv2.imwrite(osp.join(out_dir, 'multimodal.png'), multimodal[..., ::-1])
    # locality of an object edit: share of changed pixels inside the object and outside it
    edited_object = inferencer.resample(base, f'object:{car}', seed=1)
    changed = (np.abs(edited_object.image.astype(int) - base.image.astype(int)).max(-1) > 2)
    inside = base.inst == car
    locality = dict(
        changed_in_object=round(float(changed[inside].mean()), 3),
        changed_outside=round(float(changed[~inside].mean()), 3))

    bank = inferencer.support_bank
    category = TOY_PART_CATEGORIES[CAR]
    original = bank.supports[bank.categories.index(category)].argmax(1).cpu()  # (k, 64, 64) part ids
    edited = original.clone()
    edited[edited == 2] = chassis  # wheels -> chassis
    inferencer.set_supports(category, edited)
    no_wheels = inferencer(base.label, base.inst, noise=(base.z, base.z_part))
    inferencer.set_supports(category, original)
    part_edit = make_grid([[up(colorize_parts(base.parts)), up(base.image)],
                           [up(colorize_parts(no_wheels.parts)),
                            up(no_wheels.image)]])
    cv2.imwrite(osp.join(out_dir, 'part_editing.png'), part_edit[..., ::-1])
    written = [osp.join(out_dir, 'multimodal.png'), osp.join(out_dir, 'part_editing.png')]
    if args.docs_dir:
        os.makedirs(args.docs_dir, exist_ok=True)
        for path in written:
            shutil.copy(path, osp.join(args.docs_dir, osp.basename(path)))
    wheel_pixels = int(((base.inst == car) & (base.parts == 2)).sum())
    wheel_after = int(((base.inst == car) & (no_wheels.parts == 2)).sum())
    return dict(
        scene=info['image_name'],
        object=car,
        object_edit=locality,
        rows=titles,
        wheel_pixels_before=wheel_pixels,
        wheel_pixels_after_edit=wheel_after,
        files=written)
