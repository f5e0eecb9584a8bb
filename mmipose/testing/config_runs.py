"""Run a shipped training config the way users launch it, on tiny data, with small overrides.

:func:`prepare_run` writes the dataset of a config (its real on-disk format), the support part maps,
a random PartNet checkpoint, a tiny TorchScript Inception and a tiny MMSeg segmenter, and returns
the ``--cfg-options`` that point the config at them. Only widths, image size, iteration counts and
hook intervals (plus those paths) are overridden: the config's own dataloaders (workers, persistent
workers, samplers, pipelines), model, losses, evaluators and hooks stay as shipped.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.config import Config

from mmipose.testing import dataset_writers as writers
from mmipose.testing.tiny_inception import save_tiny_inception
from mmipose.toy.stages import SEGMENTER_CONFIG as TOY_SEGMENTER

#: the source checkout this module belongs to (``run_tool`` runs its ``tools/``)
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# dataset type -> (writer, train split, val split, stored (h, w), working (h, w), segmenter classes)
DATASETS = {
    'IPOSECityscapesDataset': (writers.write_cityscapes, 'train', 'val', (80, 160), (64, 128), 19),
    'IPOSEADE20KDataset': (writers.write_ade20k, 'training', 'validation', (80, 80), (64, 64), 150),
    'IPOSECocoStuffDataset': (writers.write_coco_stuff, 'train2017', 'val2017', (80, 80), (64, 64), 171),
}
NUM_VAL = 3


def _tiny_segmenter(tmp: str, num_classes: int) -> Tuple[str, str]:
    """An MMSeg config (the toy UNet with ``num_classes`` outputs) and a random checkpoint of it."""
    from mmipose.evaluation.mmseg_segmenter import build_segmenter
    config = osp.join(tmp, f'segmenter_{num_classes}.py')
    with open(config, 'w') as f:
        f.write(f"_base_ = [{TOY_SEGMENTER!r}]\nnum_classes = {num_classes}\n"
                f"model = dict(data_preprocessor=dict(size=None), backbone=dict(base_channels=4),\n"
                f"             decode_head=dict(in_channels=4, channels=4, num_classes={num_classes}))\n")
    segmenter = build_segmenter(config, None, allow_random_init=True)
    checkpoint = osp.join(tmp, f'segmenter_{num_classes}.pth')
    torch.save(dict(state_dict=segmenter.state_dict()), checkpoint)
    return config, checkpoint


def _random_partnet(path: str) -> str:
    from mmipose.models.partnet import PartNet
    torch.manual_seed(0)
    torch.save(dict(state_dict=PartNet().state_dict()), path)
    return path


def _support_folders(bank: dict) -> List[str]:
    from mmipose.models.partnet.reference_tables import NAMED_CATEGORIES, NAMED_CATEGORY_FOLDERS
    categories = bank['categories']
    categories = NAMED_CATEGORIES[categories] if isinstance(categories, str) else categories
    folders = bank.get('category_folders') or {}
    folders = NAMED_CATEGORY_FOLDERS[folders] if isinstance(folders, str) else folders
    return sorted({str(folders.get(int(c), c)) for c in categories})


def prepare_run(config: str, tmp: str, iters: int = 4, interval: int = 2) -> List[str]:
    """Write everything ``config`` needs under ``tmp`` and return its ``--cfg-options`` list.

    Iteration-based configs train ``iters`` iterations with validation, checkpoints, EMA BN refresh
    and sample grids every ``interval``; the epoch-based PartNet config trains ``iters`` epochs.
    """
    cfg = Config.fromfile(config)
    opts: Dict[str, object] = {}
    os.makedirs(tmp, exist_ok=True)
    data_root = osp.join(tmp, 'data')
    dataset_type = cfg.train_dataloader.dataset.type
    if dataset_type == 'PartNetDataset':
        categories = cfg.train_dataloader.dataset.categories
        writers.write_part_dataset(data_root, categories, per_category=2)
        support_root = osp.join(data_root, 'support_shape', '3')
        writers.write_supports(support_root, _support_folders(cfg.model.support_bank))
        opts.update({'model.support_bank.root': support_root, 'model.pool_root': data_root})
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            opts[f'{loader}.dataset.data_root'] = data_root
        opts.update({
            'train_cfg.max_epochs': iters,
            'default_hooks.checkpoint.interval': interval,
            'default_hooks.logger.interval': 1
        })
        return _as_cli(opts)

    write, train_split, val_split, stored, working, seg_classes = DATASETS[dataset_type]
    train_batch = cfg.train_dataloader.batch_size
    write(data_root, train_split, 2 * train_batch + 1, size=stored, seed=0)  # 2 DDP ranks
    write(data_root, val_split, NUM_VAL, size=stored, seed=1)
    scale = (working[1], working[0])  # MMagic Resize scale is (w, h)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts[f'{loader}.dataset.data_root'] = data_root
        for i, step in enumerate(cfg[loader].dataset.pipeline):
            if step['type'] in ('Resize', 'PILResize'):
                opts[f'{loader}.dataset.pipeline.{i}.scale'] = scale
    # widths
    opts.update({
        'model.generator.channels_g': 2,
        'model.generator.spade_hidden_nc': 8,
        'model.discriminator.base_channels': 2
    })
    if cfg.model.get('loss_config', {}).get('style_loss') is not None:  # random-init CLIP, narrow
        opts['model.loss_config.style_loss.vision_width'] = 64
    if cfg.model.get('part_inferencer') is not None:
        bank = cfg.model.part_inferencer.support_bank
        support_root = osp.join(tmp, 'support_shape', '3')
        writers.write_supports(support_root, _support_folders(bank))
        opts['model.part_inferencer.support_bank.root'] = support_root
        opts['model.part_inferencer.partnet.checkpoint'] = _random_partnet(osp.join(tmp, 'partnet.pth'))
    # evaluation: tiny Inception, tiny segmenter at the working size, object crops at the image size
    inception = save_tiny_inception(osp.join(tmp, 'tiny_inception.pt'))
    segmenter = None
    for evaluator in ('val_evaluator', 'test_evaluator'):
        for i, metric in enumerate(cfg[evaluator].metrics):
            key = f'{evaluator}.metrics.{i}'
            if 'inception_path' in metric:
                opts[f'{key}.inception_path'] = inception
            if metric['type'] == 'IPOSEFID':  # real statistics cached here, not in ~/.cache
                opts[f'{key}.inception_pkl'] = osp.join(tmp, f'{evaluator}_{i}_real.pkl')
            if 'crop_size' in metric:
                opts[f'{key}.crop_size'] = working[0]
            if 'segmenter_config' in metric:
                segmenter = segmenter or _tiny_segmenter(tmp, seg_classes)
                opts.update({
                    f'{key}.segmenter_config': segmenter[0],
                    f'{key}.segmenter_checkpoint': segmenter[1],
                    f'{key}.eval_size': None
                })
    # iterations and hook intervals
    opts.update({
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': interval,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': interval
    })
    for i, hook in enumerate(cfg.get('custom_hooks', [])):
        if hook['type'] == 'EMABNRefreshHook':
            opts.update({f'custom_hooks.{i}.interval': interval, f'custom_hooks.{i}.num_batches': 2})
        if hook['type'] == 'IPOSESampleGridHook':
            opts[f'custom_hooks.{i}.interval'] = interval
    return _as_cli(opts)


def _as_cli(opts: Dict[str, object]) -> List[str]:

    def fmt(value):
        if isinstance(value, tuple):
            return '(' + ','.join(str(v) for v in value) + ')'
        return str(value)

    return [f'{k}={fmt(v)}' for k, v in opts.items()]


def tool_env() -> dict:
    """Environment of a tool subprocess: this checkout's mmipose, one thread per process."""
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.pop('LOCAL_RANK', None)
    return env


def run_tool(args: List[str], timeout: float = 900) -> subprocess.CompletedProcess:
    """``python tools/<args>`` from the repository root; fails with its output on error."""
    proc = subprocess.run(
        [sys.executable] + args, cwd=REPO, env=tool_env(), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f'{" ".join(args[:2])} exited {proc.returncode}:\n'
                             f'{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}')
    return proc


def latest_run(work_dir: str) -> Tuple[str, List[dict]]:
    """Text of the newest ``<timestamp>/<timestamp>.log`` and its ``vis_data/scalars.json`` records."""
    logs = sorted(glob.glob(osp.join(work_dir, '2*', '2*.log')))
    assert logs, f'no log in {work_dir}'
    with open(logs[-1]) as f:
        text = f.read()
    scalars = osp.join(osp.dirname(logs[-1]), 'vis_data', 'scalars.json')
    records = []
    if osp.isfile(scalars):
        with open(scalars) as f:
            records = [json.loads(line) for line in f if line.strip()]
    return text, records


def checkpoint_iter(path: str) -> Optional[int]:
    """The ``meta['iter']`` stored in a checkpoint."""
    return torch.load(path, map_location='cpu', weights_only=False)['meta'].get('iter')
