"""Fill the frozen PartNet's output cache for every training scene before training starts."""
import time

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader

from mmipose.registry import HOOKS


@HOOKS.register_module()
class PartCacheWarmupHook(Hook):
    """Run the frozen PartNet once over the whole training set, in large batches, before the
    first iteration, so that every training step reads its part maps from the cache.

    With ``part_inferencer.cache_size`` set, each scene costs one PartNet call the first time a
    training batch holds it and none afterwards. This hook pays that cost up front, with
    ``batch_size`` scenes per call, so every step costs the same from the first one on. It does
    not make the first epoch's PartNet work cheaper on a CPU (the warm-up costs about what the first
    epoch's calls add to its steps, docs/toy_demo.md); larger batches may pay off on a GPU.

    Only useful where the training pipeline has no random geometric transform (no flip, crop or
    resize): the cache is keyed on the instance map, so an augmented scene is a new entry. The
    hook does nothing (and says why) when the model has no part inferencer, no cache, or a
    cache smaller than the training set. Each rank warms its own cache with the whole set.

    Args:
        batch_size (int): Scenes per PartNet call during the warm-up. Defaults to 16.
    """

    priority = 'ABOVE_NORMAL'  # before hooks that read training batches

    def __init__(self, batch_size: int = 16) -> None:
        if batch_size < 1:
            raise ValueError(f'PartCacheWarmupHook: batch_size must be >= 1, got {batch_size}')
        self.batch_size = int(batch_size)

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        inferencer = getattr(model, 'part_inferencer', None)
        dataset = runner.train_dataloader.dataset
        reason = None
        if inferencer is None:
            reason = 'the model has no part inferencer'
        elif not getattr(inferencer, 'cache_size', 0):
            reason = 'model.part_inferencer.cache_size is 0 (no cache)'
        elif inferencer.cache_size < len(dataset):
            reason = (f'model.part_inferencer.cache_size {inferencer.cache_size} is smaller than the '
                      f'{len(dataset)} training scenes')
        if reason:
            print_log(f'PartCacheWarmupHook: skipped, {reason}.', logger='current')
            return
        loader = DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=0,
            collate_fn=runner.train_dataloader.collate_fn)
        start, before = time.time(), inferencer.num_cached
        progress = ProgressBar(len(loader))
        with torch.no_grad():
            for batch in loader:
                data = model.data_preprocessor(batch, False)
                model.prepare_conditions(data['inputs'], data['data_samples'])
                progress.update()
        print_log(
            f'\nPartCacheWarmupHook: PartNet outputs of {inferencer.num_cached - before} training scenes '
            f'cached in {time.time() - start:.1f} s',
            logger='current')
