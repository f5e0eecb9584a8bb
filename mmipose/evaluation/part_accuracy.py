"""PartAccuracy: pixel accuracy of predicted part maps, basis vs novel categories (paper Table 4)."""
from collections import Counter, defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

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

    Whole-crop accuracy is dominated by the background, which the query shape already gives away
    (a crop is often 70-80 % background). So that a short or failed training cannot pass for a good
    one, ``object_pixels=True`` also reports, for basis and novel categories:

    * ``<group>_obj_acc``: accuracy over the object's pixels only (ground truth > 0);
    * ``<group>_obj_baseline``: the same for the best *constant* predictor, i.e. every object
      pixel labelled with its category's most frequent part in the evaluated set (chosen with
      hindsight, so no predictor that outputs one part per category can do better).

    A PartNet that learned something has ``obj_acc`` clearly above ``obj_baseline``.

    Args:
        novel_categories (Sequence[int]): Held-out category ids (the reference: ``[8]``, cat).
            Every other category counts as basis.
        per_category (bool): Also report ``acc_<id>``.
        object_pixels (bool): Also report ``<group>_obj_acc`` and ``<group>_obj_baseline``.
        prefix (str): Metric name prefix (``'PartAccuracy'`` -> ``PartAccuracy/basis_acc``).
    """
    default_prefix = 'PartAccuracy'

    def __init__(self,
                 novel_categories: Sequence[int] = (8, ),
                 per_category: bool = True,
                 object_pixels: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.novel_categories = {int(c) for c in novel_categories}
        self.per_category = per_category
        self.object_pixels = object_pixels

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
        hits = pred == gt
        on_object = gt > 0
        correct = hits.flatten(1).sum(1).tolist()  # one host sync per batch
        object_correct = (hits & on_object).flatten(1).sum(1).tolist()
        # (N, num_parts) ground-truth part histograms of the object pixels (for the constant baseline),
        # one bincount over sample-offset part ids
        num_samples, num_parts = gt.shape[0], int(gt.max()) + 1
        offset_ids = gt + num_parts * torch.arange(num_samples, device=gt.device).view(-1, *[1] * (gt.dim() - 1))
        histograms = torch.bincount(offset_ids[on_object], minlength=num_samples * num_parts)
        histograms = histograms.view(num_samples, num_parts).tolist()
        total = gt[0].numel()
        for sample, hit, obj_hit, hist in zip(data_samples, correct, object_correct, histograms):
            self.results.append(
                dict(
                    category=int(sample['category']),
                    correct=int(hit),
                    total=total,
                    object_correct=int(obj_hit),
                    part_histogram=hist))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            return {}
        correct, total, object_correct = defaultdict(int), defaultdict(int), defaultdict(int)
        histograms: Dict[int, Counter] = defaultdict(Counter)
        for r in results:
            category = r['category']
            correct[category] += r['correct']
            total[category] += r['total']
            object_correct[category] += r.get('object_correct', 0)
            histograms[category].update({p: n for p, n in enumerate(r.get('part_histogram', [])) if n})

        def percent(hits: int, pixels: int) -> float:
            return 100.0 * hits / pixels if pixels else float('nan')

        def accuracy(categories) -> float:
            return percent(sum(correct[c] for c in categories), sum(total[c] for c in categories))

        def object_scores(categories) -> Tuple[float, float]:
            pixels = sum(sum(histograms[c].values()) for c in categories)
            baseline = sum(max(histograms[c].values(), default=0) for c in categories)
            return percent(sum(object_correct[c] for c in categories), pixels), percent(baseline, pixels)

        groups = dict(
            basis=[c for c in total if c not in self.novel_categories],
            novel=[c for c in total if c in self.novel_categories])
        metrics = dict(acc=accuracy(total))
        for name, categories in groups.items():
            if not categories:  # e.g. no novel samples in the val set
                continue
            metrics[f'{name}_acc'] = accuracy(categories)
            if self.object_pixels:
                metrics[f'{name}_obj_acc'], metrics[f'{name}_obj_baseline'] = object_scores(categories)
        if self.per_category:
            metrics.update({f'acc_{c}': accuracy([c]) for c in sorted(total)})
        return metrics
