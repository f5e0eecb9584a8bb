"""PartAccuracy: pixel accuracy of predicted part maps, basis vs novel categories (paper Table 4)."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmipose.registry import METRICS


@METRICS.register_module()
class PartAccuracy(BaseMetric):
    """Pixel accuracy of argmax part maps over the whole 64x64 crops (background included).

    As the reference's ``multi_acc``: correct pixels / all pixels, pooled over samples (a
    micro average), reported in percent for the basis categories (``basis_acc``, the paper's
    Basis AC and the reference's best-checkpoint criterion) and the novel ones (``novel_acc``,
    Novel AC), plus ``acc`` over everything and ``acc_<id>`` per category. Predictions come
    from ``PartNetModel`` in ``predict`` mode (fixed k-means supports).

    Args:
        novel_categories (Sequence[int]): Held-out category ids (the reference: ``[8]``, cat).
            Every other category counts as basis.
        per_category (bool): Also report ``acc_<id>``.
        prefix (str): Metric name prefix (``'PartAccuracy'`` -> ``PartAccuracy/basis_acc``).
    """
    default_prefix = 'PartAccuracy'

    def __init__(self,
                 novel_categories: Sequence[int] = (8, ),
                 per_category: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.novel_categories = {int(c) for c in novel_categories}
        self.per_category = per_category

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Count correct and total pixels per sample.

        Args:
            data_samples (Sequence[dict]): with ``pred_parts`` and ``gt_parts`` (H, W) integer
                tensors and ``category`` (int).
        """
        if not data_samples:
            return
        pred = torch.stack([torch.as_tensor(d['pred_parts']) for d in data_samples])
        gt = torch.stack([torch.as_tensor(d['gt_parts']) for d in data_samples]).to(pred.device)
        if pred.shape != gt.shape:
            raise ValueError(f'PartAccuracy: pred_parts {tuple(pred.shape)} and gt_parts {tuple(gt.shape)} differ')
        correct = (pred == gt).flatten(1).sum(1).tolist()  # one host sync per batch
        total = gt[0].numel()
        for sample, hits in zip(data_samples, correct):
            self.results.append(dict(category=int(sample['category']), correct=int(hits), total=total))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            return {}
        correct, total = defaultdict(int), defaultdict(int)
        for r in results:
            correct[r['category']] += r['correct']
            total[r['category']] += r['total']

        def accuracy(categories) -> float:
            hits = sum(correct[c] for c in categories)
            pixels = sum(total[c] for c in categories)
            return 100.0 * hits / pixels

        basis = [c for c in total if c not in self.novel_categories]
        novel = [c for c in total if c in self.novel_categories]
        metrics = dict(acc=accuracy(total))
        if basis:
            metrics['basis_acc'] = accuracy(basis)
        if novel:  # absent when the val set has no novel samples
            metrics['novel_acc'] = accuracy(novel)
        if self.per_category:
            metrics.update({f'acc_{c}': accuracy([c]) for c in sorted(total)})
        return metrics
