"""``LoaderMetric``: the MMagic evaluator protocol for metrics fed by the ordinary val/test loader."""
from typing import Optional

import torch.nn as nn
from mmengine.evaluator import BaseMetric


class LoaderMetric(BaseMetric):
    """A metric that MMagic's ``MultiValLoop`` / ``MultiTestLoop`` feeds with the model's outputs
    on the ordinary val / test loader (no extra sampling), pooled over the whole dataset.

    MMagic's evaluator calls :meth:`prepare` and :meth:`get_metric_sampler`; here ``prepare``
    remembers the dataset size (what :meth:`evaluate` pools over) and moves the metric's network
    (:meth:`metric_network`, e.g. Inception or a segmenter) to ``self.device`` when set, else to
    the evaluated model's device.
    """
    SAMPLER_MODE = 'normal'  # MMagic's MultiValLoop/MultiTestLoop: feed the val loader as is
    device: Optional[str] = None
    size: Optional[int] = None

    def metric_network(self) -> nn.Module:
        """The network that must sit on the evaluated model's device."""
        raise NotImplementedError

    def prepare(self, module, dataloader) -> None:
        """MMagic evaluator hook: remember the dataset size, move :meth:`metric_network`."""
        self.size = len(dataloader.dataset)
        module = getattr(module, 'module', module)
        device = self.device or getattr(getattr(module, 'data_preprocessor', None), 'device', None)
        if device is not None:
            self.metric_network().to(device)

    def get_metric_sampler(self, model, dataloader, metrics):
        """MMagic evaluator hook: the outputs come from the ordinary val / test loader."""
        return dataloader

    def evaluate(self, size: Optional[int] = None) -> dict:
        """Evaluate over ``size`` images (defaults to the prepared dataset size)."""
        return super().evaluate(size or self.size or len(self.results))
