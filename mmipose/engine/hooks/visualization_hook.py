"""IPOSESampleGridHook: sample grids (label | parts | synthesized | real) during training."""
import os
import os.path as osp
from typing import Optional

import cv2
import numpy as np
import torch
from mmagic.engine.hooks import VisualizationHook
from mmengine.dataset import pseudo_collate
from mmengine.dist import master_only
from mmengine.model import is_model_wrapper

from mmipose.registry import HOOKS
from mmipose.visualization.sample_grid import GRID_COLUMNS, samples_to_grid


@HOOKS.register_module()
class IPOSESampleGridHook(VisualizationHook):
    """Every ``interval`` training iterations, synthesize a fixed set of samples and save a grid.

    MMagic's :class:`~mmagic.engine.hooks.VisualizationHook` with its sampling step
    (:meth:`vis_sample`) replaced: MMagic's visualizer concatenates image tensors, while an
    iPOSE sample is best read next to its colourised label and part maps. The grid also comes
    after the last iteration, and the hook saves nothing at test time (that is
    :class:`IPOSESaveOutputsHook`'s job).

    The grid has one row per sample and the columns label | predicted parts | synthesized |
    real. It is written to ``<work_dir>/<out_dir>/iter_<n>.png`` and sent to every visualizer
    backend of the runner (``runner.visualizer.add_image``: LocalVisBackend writes under
    ``vis_data``, TensorboardVisBackend to TensorBoard). The samples are the first
    ``num_samples`` items of the validation set (or the training set with ``split='train'``, or
    when there is no validation loader) and the noise is seeded, so successive grids differ only
    by training.

    Args:
        interval (int): save every ``interval`` iterations (and after the last one).
        num_samples (int): rows of the grid.
        split (str): ``'val'`` or ``'train'``.
        sample_model (str): ``'ema'`` or ``'orig'`` generator (``'ema'`` falls back to the
            model's default when it has no EMA).
        seed (int): noise seed for the grid.
        scale (int): nearest up-scaling of the tiles (useful for small images).
        out_dir (str): folder under the work dir.
        name (str): image name for the visualizer backends.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 1000,
                 num_samples: int = 4,
                 split: str = 'val',
                 sample_model: str = 'ema',
                 seed: int = 0,
                 scale: int = 1,
                 out_dir: str = 'samples',
                 name: str = 'samples') -> None:
        if split not in ('val', 'train'):
            raise ValueError(f"IPOSESampleGridHook: split must be 'val' or 'train', got {split!r}.")
        if interval < 1 or num_samples < 1:
            raise ValueError('IPOSESampleGridHook: interval and num_samples must be >= 1, got '
                             f'{interval} and {num_samples}.')
        super().__init__(interval=interval, n_samples=num_samples, save_at_test=False)
        self.split = split
        self.sample_model = sample_model
        self.seed = seed
        self.scale = scale
        self.out_dir = out_dir
        self.name = name
        self._batch: Optional[dict] = None
        self._palette: Optional[np.ndarray] = None

    def _dataset(self, runner):
        loader = getattr(runner, '_val_dataloader', None) if self.split == 'val' else None
        if loader is None:
            loader = runner.train_dataloader
        if isinstance(loader, dict):  # not built yet by a val loop: build it (no worker processes)
            # An explicit sampler seed: without one MMEngine's samplers agree on a seed through a
            # broadcast, a collective that only rank 0 (the one saving grids) would enter, so
            # distributed runs hung at the first grid.
            loader = runner.build_dataloader(dict(loader, num_workers=0, persistent_workers=False), seed=self.seed)
        return loader.dataset

    def _fixed_batch(self, runner) -> dict:
        if self._batch is None:
            dataset = self._dataset(runner)
            count = min(self.n_samples, len(dataset))
            self._batch = pseudo_collate([dataset[i] for i in range(count)])
            palette = dataset.metainfo.get('palette')
            self._palette = None if palette is None else np.asarray(palette, np.uint8)
        return self._batch

    def make_grid(self, runner) -> np.ndarray:
        """Synthesize the fixed samples and return the grid (H, W, 3) uint8 RGB."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        batch = dict(self._fixed_batch(runner))
        inputs = dict(batch['inputs'])
        if self.sample_model == 'orig' or getattr(model, 'with_ema_gen', False):
            inputs['sample_model'] = self.sample_model
        batch['inputs'] = inputs
        was_training = model.training
        model.eval()
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
        try:
            with torch.no_grad(), torch.random.fork_rng(devices=devices):
                torch.manual_seed(self.seed)
                samples = model.val_step(batch)
        finally:
            model.train(was_training)
        return samples_to_grid(samples, self._palette, titles=GRID_COLUMNS, scale=self.scale)

    def vis_sample(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Write the grid to ``<work_dir>/<out_dir>/iter_<n>.png`` and the visualizer backends."""
        step = runner.iter + 1
        grid = self.make_grid(runner)
        folder = osp.join(runner.work_dir, self.out_dir)
        os.makedirs(folder, exist_ok=True)
        cv2.imwrite(osp.join(folder, f'iter_{step}.png'), grid[..., ::-1])
        runner.visualizer.add_image(self.name, grid, step=step)

    @master_only
    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval) or self.is_last_train_iter(runner):
            self.vis_sample(runner, batch_idx, data_batch, outputs)
