"""``SceneMIoUCurveHook``: the segmenter's mIoU / AC of synthesized val scenes during training."""
import json
import logging
from typing import List

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmipose.registry import HOOKS, METRICS

logger = logging.getLogger('mmipose.demo')


@HOOKS.register_module()
class SceneMIoUCurveHook(Hook):
    """Every ``interval`` iterations, synthesize the val scenes and score them with a segmenter.

    The generator is the model's ``val_step`` one (EMA when there is one), in eval mode with its
    BN statistics as they are (not refreshed), under fixed noise (seed 0). The evaluation runs
    under a forked RNG, so the training randomness is untouched. The curve
    ``[{iter, mIoU, AC}, ...]`` is kept in ``self.curve``, logged and rewritten to ``out_path``.

    Args:
        segmenter_config (str): MMSeg config of the segmenter (``SegmentationMetric``).
        segmenter_checkpoint (str): its weights.
        interval (int): iterations between evaluations.
        out_path (str): JSON file of the curve.
        device (str): where the segmenter runs.
    """
    priority = 'LOW'

    def __init__(self,
                 segmenter_config: str,
                 segmenter_checkpoint: str,
                 interval: int,
                 out_path: str,
                 device: str = 'cpu') -> None:
        if interval < 1:
            raise ValueError(f'SceneMIoUCurveHook: interval must be >= 1, got {interval}')
        self.segmenter_config, self.segmenter_checkpoint = segmenter_config, segmenter_checkpoint
        self.interval, self.out_path, self.device = interval, out_path, device
        self.curve: List[dict] = []

    def before_train(self, runner) -> None:
        self.dataloader = Runner.build_dataloader(runner.cfg.val_dataloader)
        self.curve = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if (runner.iter + 1) % self.interval:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        metric = METRICS.build(
            dict(
                type='SegmentationMetric',
                segmenter_config=self.segmenter_config,
                segmenter_checkpoint=self.segmenter_checkpoint,
                device=self.device))
        model.eval()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(0)
            for batch in self.dataloader:
                metric.process(batch, [sample.to_dict() for sample in model.val_step(batch)])
        model.train()
        scores = {
            k.split('/')[-1]: round(float(v), 2)
            for k, v in metric.evaluate(len(self.dataloader.dataset)).items()
        }
        self.curve.append(dict(iter=runner.iter + 1, **scores))
        logger.info('iteration %d: synthesized val scenes mIoU %.1f %%, AC %.1f %%', runner.iter + 1,
                    scores.get('mIoU', float('nan')), scores.get('AC', float('nan')))
        with open(self.out_path, 'w') as f:
            json.dump(self.curve, f, indent=1)
