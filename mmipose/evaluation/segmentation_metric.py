"""mIoU and pixel accuracy (AC) of a pretrained MMSeg segmenter on generated images."""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from mmipose.registry import METRICS
from mmipose.utils.sample_fields import sample_field

from .loader_metric import LoaderMetric
from .mmseg_segmenter import build_segmenter, segment, segmenter_num_classes
from .segmenter_class_maps import IGNORE_INDEX, resolve_class_map


@METRICS.register_module()
class SegmentationMetric(LoaderMetric):
    """AC and mIoU of a segmenter's prediction on the fakes vs. the input label maps.

    The paper's protocol (SPADE / OASIS): a segmenter trained on real images segments every
    generated image; its prediction is compared with the label map the image was generated
    from. Label values are mapped to the segmenter's classes by ``class_map`` (Cityscapes
    35 label ids -> 19 train ids, ADE20K reduce-zero-label, COCO-Stuff 183 -> 171); pixels
    mapped to 255 are not counted. One confusion matrix is pooled over the whole set:
    ``AC = 100 * correct / counted pixels`` and ``mIoU = 100 * mean IoU`` over the classes
    that occur in the labels or the predictions (MMSeg's nan-mean).

    Resolution protocol (``eval_size``): None = the segmenter sees the fakes at the synthesis
    resolution, compared with the working-resolution labels (the nearest-downsampled maps of
    the pipeline; OASIS maintainer's protocol). ``(h, w)`` = the fakes are bilinearly
    upsampled to the segmenter's native scale (e.g. 1024x2048 for Cityscapes, SPADE's protocol)
    and the logits resized back to the label size before the argmax. State which one you use:
    the numbers differ by several points.

    Args:
        segmenter_config (str | dict): MMSeg config file, ``'mmseg::<model>/<config>.py'``
            (shipped with mmsegmentation), a config dict or a ``model`` dict.
        segmenter_checkpoint (str, optional): Local MMSeg checkpoint of that config.
        class_map (str | Sequence[int], optional): Preset ``'cityscapes'``, ``'ade20k'``,
            ``'coco_stuff'``, an explicit table (label value -> class, 255 = ignore), or None
            when the label values already are the segmenter's classes.
        eval_size (tuple[int, int], optional): Segmenter input size (h, w); None = as generated.
        sample_model (str): Branch read from outputs carrying ``ema`` / ``orig``.
        per_class (bool): Also report ``IoU/<class index>`` for the counted classes.
        allow_random_init (bool): Accept ``segmenter_checkpoint=None`` (tests / timing only).
        device (str, optional): Segmenter device; default: the evaluated model's device.
        collect_device (str): 'cpu' or 'gpu' (distributed result collection).
        prefix (str, optional): Metric name prefix. Defaults to 'Seg'.

    Raises:
        ValueError: the class map does not produce exactly the segmenter's class count.
    """
    default_prefix = 'Seg'

    def __init__(self,
                 segmenter_config: Union[str, dict],
                 segmenter_checkpoint: Optional[str] = None,
                 class_map: Union[None, str, Sequence[int]] = None,
                 eval_size: Optional[Tuple[int, int]] = None,
                 sample_model: str = 'ema',
                 per_class: bool = False,
                 allow_random_init: bool = False,
                 device: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if eval_size is not None and len(eval_size) != 2:
            raise ValueError(f'SegmentationMetric: eval_size must be (h, w) or None, got {eval_size}')
        self.segmenter = build_segmenter(segmenter_config, segmenter_checkpoint, allow_random_init)
        self.num_classes = segmenter_num_classes(self.segmenter)
        if class_map is None:
            table = list(range(self.num_classes))
        else:
            table = resolve_class_map(class_map)
        mapped = {v for v in table if v != IGNORE_INDEX}
        if mapped != set(range(self.num_classes)):
            name = class_map if isinstance(class_map, str) else f'list of {len(table)}'
            raise ValueError(f'SegmentationMetric: class_map {name} maps labels to {len(mapped)} classes '
                             f'(0..{max(mapped) if mapped else -1}) but the segmenter of {segmenter_config!r} '
                             f'predicts {self.num_classes}; use a segmenter trained on the matching dataset '
                             'or give a class_map for it')
        self.class_map = torch.tensor(table, dtype=torch.long)
        self.eval_size = tuple(int(s) for s in eval_size) if eval_size is not None else None
        self.sample_model = sample_model
        self.per_class = per_class
        if device is not None:
            self.segmenter.to(device)
        self.device = device

    def metric_network(self):
        return self.segmenter

    # -- per batch -----------------------------------------------------------------------
    def _fake(self, sample) -> Tensor:
        value = sample_field(sample_field(sample, self.sample_model), 'fake_img')
        name = f'{self.sample_model}.fake_img'
        if value is None:
            value, name = sample_field(sample, 'fake_img'), 'fake_img'
        if value is None:
            raise KeyError('SegmentationMetric: output has no fake_img / '
                           f'{self.sample_model}.fake_img ((3,H,W) BGR [0,255])')
        img = torch.as_tensor(value)
        if img.dim() != 3 or img.shape[0] != 3:
            raise ValueError(f'SegmentationMetric: {name} must be (3,H,W), got {tuple(img.shape)}')
        return img.float()

    def _label(self, sample) -> Tensor:
        label = sample_field(sample, 'label')
        if label is None:
            raise KeyError("SegmentationMetric: output has no 'label' ((1,H,W) input label map)")
        label = torch.as_tensor(label).long()
        return label.reshape(label.shape[-2:])

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store per image the sparse confusion counts ``(gt * C + pred, count)``."""
        if not data_samples:
            return
        fakes = torch.stack([self._fake(s) for s in data_samples])
        labels = torch.stack([self._label(s) for s in data_samples])
        if fakes.shape[-2:] != labels.shape[-2:]:
            raise ValueError(f'SegmentationMetric: fake_img {tuple(fakes.shape[-2:])} and label '
                             f'{tuple(labels.shape[-2:])} differ in size')
        outside = (labels < 0) | (labels >= len(self.class_map))
        if outside.any():
            names = [sample_field(s, 'image_name') for s, o in zip(data_samples, outside) if o.any()]
            raise ValueError(f'SegmentationMetric: label values {labels[outside].unique()[:10].tolist()}'
                             f' (images {names}) outside the class_map (0..{len(self.class_map) - 1})')
        pred = segment(self.segmenter, fakes, tuple(labels.shape[-2:]), self.eval_size)
        gt = self.class_map.to(pred.device)[labels.to(pred.device)]
        c = self.num_classes
        image = torch.arange(len(gt), device=gt.device).view(-1, 1, 1).expand_as(gt)
        valid = gt != IGNORE_INDEX
        keys, counts = torch.unique((image * c * c + gt * c + pred)[valid], return_counts=True)
        keys, counts = keys.cpu().numpy(), counts.cpu().numpy()  # one transfer per batch
        owner = keys // (c * c)
        for b in range(len(gt)):
            self.results.append((keys[owner == b] % (c * c), counts[owner == b]))

    def compute_metrics(self, results: List[tuple]) -> dict:
        """AC and mIoU (percent) of the pooled confusion matrix."""
        c = self.num_classes
        confusion = np.zeros(c * c, np.int64)
        for keys, counts in results:
            np.add.at(confusion, keys, counts)
        confusion = confusion.reshape(c, c)  # rows: label class, columns: predicted class
        correct = np.diag(confusion).astype(np.float64)
        union = confusion.sum(0) + confusion.sum(1) - correct
        counted = union > 0
        if not counted.any():
            raise RuntimeError('SegmentationMetric: every label pixel was ignored (class_map 255)')
        iou = correct[counted] / union[counted]
        metrics = dict(AC=100.0 * correct.sum() / confusion.sum(), mIoU=100.0 * iou.mean())
        if self.per_class:
            metrics.update({f'IoU/{k}': 100.0 * v for k, v in zip(np.flatnonzero(counted), iou)})
        return metrics
