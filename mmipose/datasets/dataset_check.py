"""Scan every sample of a dataset once and summarise what training would see (``tools/analysis/check_dataset.py``).

For a scene dataset each sample's stored files are read (missing / unreadable files, image-map size
mismatches, the instance-map format found) and the config's pipeline runs up to ``ComputeObjectBoxes``
(label ids after the label transforms, object rows at working resolution). For PartNet's part dataset
the whole pipeline runs (category, part ids). :class:`DatasetReport` gathers the records; its
``problems`` are what would train wrongly, each naming the file.
"""
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch

from .instance_format import (FORMAT_ADE20K, FORMAT_CITYSCAPES, FORMAT_COCO, FORMAT_EMPTY, FORMAT_SPADE,
                              detect_instance_format)
from .object_presence import results_until_boxes

#: Object size bins: the longer box side at working resolution, in pixels.
SIZE_BINS = (8, 16, 32, 64, 128)
#: Objects-per-image bins.
COUNT_BINS = (1, 2, 4, 8, 16)
_MAP_KEYS = ('img', 'label', 'inst', 'seg_map')  # seg_map: MMSeg datasets (segmenter configs)


def _read_unchanged(path: str) -> Optional[np.ndarray]:
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def scan_scene_sample(dataset, index: int) -> dict:
    """One scene sample's record: files, sizes, instance format, label ids, objects, error."""
    info = dataset.get_data_info(index)
    record = dict(
        index=index,
        path=info.get('img_path', str(index)),
        error=None,
        sizes={},
        format=None,
        label_ids=[],
        objects=np.zeros((0, 8), np.int64),
        kind='scene')
    stored = {}
    for key in _MAP_KEYS:
        path = info.get(f'{key}_path')
        if path is None:
            continue
        array = _read_unchanged(path)
        if array is None:
            import os.path as osp
            state = 'missing' if not osp.isfile(path) else 'unreadable (corrupt, truncated or not an image)'
            record['error'] = f'{key} file {path} is {state}'
            return record
        stored[key] = array
        record['sizes'][key] = tuple(array.shape[:2])
    if len(set(record['sizes'].values())) > 1:
        record['error'] = ('sizes differ (H x W): ' + ', '.join(f'{key} {info[key + "_path"]} {h}x{w}'
                                                                for key, (h, w) in record['sizes'].items()))
        return record
    if 'inst' in stored:
        label = stored.get('label')
        record['format'] = detect_instance_format(stored['inst'], None if label is None or label.ndim != 2 else label)
    try:
        results = results_until_boxes(dataset, index)
        if results is None:
            dataset.prepare_data(index)
    except Exception as error:
        record['error'] = f'{type(error).__name__}: {error}'
        return record
    if results is not None:
        record['objects'] = np.asarray(results['objects']).reshape(-1, 8)
        if 'label' in results:
            record['label_ids'] = np.unique(np.asarray(results['label'])).astype(int).tolist()
    else:  # no object step (e.g. an MMSeg dataset; its whole pipeline ran above): ids of the stored map
        label = stored.get('label', stored.get('seg_map'))
        if label is not None:
            record['label_ids'] = np.unique(label).astype(int).tolist()
    return record


def scan_part_sample(dataset, index: int) -> dict:
    """One part-dataset sample's record: category, part ids seen, error."""
    info = dataset.get_data_info(index)
    record = dict(
        index=index,
        path=info.get('part_path', str(index)),
        error=None,
        kind='part',
        category=info.get('category'),
        part_ids=[])
    try:
        packed = dataset.prepare_data(index)
        record['part_ids'] = torch.unique(packed['inputs']['part']).tolist()
    except Exception as error:
        record['error'] = f'{type(error).__name__}: {error}'
    return record


def scan_sample(dataset, index: int) -> dict:
    """The record of item ``index`` (scene or part pair, by its data info)."""
    info = dataset.get_data_info(index)
    return scan_part_sample(dataset, index) if 'shape_path' in info else scan_scene_sample(dataset, index)


class _ScanDataset(torch.utils.data.Dataset):
    """Records as a torch dataset, so a DataLoader scans with worker processes."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        return scan_sample(self.dataset, index)


def _first(batch: list) -> dict:
    return batch[0]


def expected_instance_format(dataset) -> Optional[str]:
    """The instance-map format the dataset's pipeline reads (None: not known / not checked)."""
    if getattr(dataset, 'layout', None) == 'spade':
        return FORMAT_SPADE
    steps = [t for t in getattr(dataset.pipeline, 'transforms', [])]
    names = [type(t).__name__ for t in steps]
    if 'SplitADE20KInstance' in names:
        return FORMAT_ADE20K
    for step in steps:
        if type(step).__name__ == 'InstanceClassFromId':
            return {256: FORMAT_COCO, 1000: FORMAT_CITYSCAPES}.get(step.divisor)
    if type(dataset).__name__ in ('IPOSECityscapesDataset', 'ToySceneDataset'):
        return FORMAT_CITYSCAPES
    return None


def _histogram(values: Sequence[int], bins: Sequence[int]) -> Dict[str, int]:
    edges = [0] + list(bins)
    names = [f'{lo}-{hi - 1}' if hi - lo > 1 else f'{lo}' for lo, hi in zip(edges[:-1], edges[1:])]
    names.append(f'>={bins[-1]}')
    counts = np.bincount(np.searchsorted(bins, np.asarray(values, np.int64), side='right'), minlength=len(names))
    return dict(zip(names, counts.tolist()))


@dataclass
class DatasetReport:
    """What a scan found; ``problems`` (file-naming messages) would train wrongly, ``warnings`` might."""
    name: str
    num_images: int
    records: List[dict]
    num_classes: Optional[int] = None
    expected_format: Optional[str] = None
    part_categories: Dict[int, int] = field(default_factory=dict)  # of ComputeObjectBoxes; {} = no objects
    problems: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def __post_init__(self):
        for record in self.records:
            if record['error']:
                self.problems.append(record['error'] if record['path'] in
                                     record['error'] else f'{record["path"]}: {record["error"]}')
        if self.expected_format is not None:
            for record in self.records:
                if record.get('format') not in (None, self.expected_format, FORMAT_EMPTY):
                    self.problems.append(f'{record["path"]}: instance map is {record["format"]}, the pipeline '
                                         f'expects {self.expected_format}')
        scenes = [r for r in self.records if r['kind'] == 'scene' and not r['error']]
        if not scenes:
            return
        if self.num_classes is not None:
            outside = sorted({i for r in scenes for i in r['label_ids'] if not 0 <= i < self.num_classes})
            if outside:
                first = next(r['path'] for r in scenes if set(r['label_ids']) & set(outside))
                self.problems.append(f'label ids {outside[:10]} outside the {self.num_classes} classes '
                                     f'(first in {first})')
        if self.part_categories and sum(len(r['objects']) for r in scenes) == 0:
            self.problems.append(f'no object of a part category in any of the {len(scenes)} images (first '
                                 f'{scenes[0]["path"]}): PartNet would never run')
        seen = {int(c) for r in scenes for c in r['objects'][:, 1]}
        missing = sorted(set(self.part_categories.values()) - seen)
        if missing and seen:
            self.warnings.append(f'part categories without any object: {missing}')

    def summary(self) -> str:
        """Human-readable summary (several lines)."""
        ok = [r for r in self.records if not r['error']]
        lines = [f'{self.name}: {self.num_images} images, {len(ok)} read without error']
        formats = Counter(r['format'] for r in self.records if r.get('format'))
        if formats:
            lines.append(f'instance-map format found: {dict(formats)} (pipeline expects: '
                         f'{self.expected_format or "not checked"})')
        scenes = [r for r in ok if r['kind'] == 'scene']
        if scenes:
            per_image = [len(r['objects']) for r in scenes]
            lines.append(f'objects: {sum(per_image)} in all, per image min {min(per_image)} / mean '
                         f'{np.mean(per_image):.2f} / max {max(per_image)}; images with 0 objects: '
                         f'{per_image.count(0)}')
            lines.append(f'objects per image (histogram): {_histogram(per_image, COUNT_BINS)}')
            rows = np.concatenate([r['objects'] for r in scenes])
            by_category = Counter(rows[:, 1].tolist())
            images_by_category = Counter(c for r in scenes for c in set(r['objects'][:, 1].tolist()))
            table = {c: f'{by_category[c]} objects / {images_by_category[c]} images' for c in sorted(by_category)}
            lines.append(f'per part category (with objects): {table}')
            sides = np.maximum(rows[:, 3] - rows[:, 2], rows[:, 5] - rows[:, 4]).tolist() if len(rows) else []
            lines.append(f'object size (longer box side at working resolution, px): {_histogram(sides, SIZE_BINS)}')
            ids = sorted({i for r in scenes for i in r['label_ids']})
            lines.append(f'label ids seen: {len(ids)} ids {ids[:40]}{" ..." if len(ids) > 40 else ""}' +
                         (f' (config classes: 0..{self.num_classes - 1})' if self.num_classes else ''))
        parts = [r for r in ok if r['kind'] == 'part']
        if parts:
            lines.append(f'samples per category: {dict(sorted(Counter(r["category"] for r in parts).items()))}')
            lines.append(f'part ids seen: {sorted({i for r in parts for i in r["part_ids"]})}')
        for warning in self.warnings:
            lines.append(f'WARNING: {warning}')
        lines.append(f'problems: {len(self.problems)}')
        lines.extend(f'  - {p}' for p in self.problems[:50])
        if len(self.problems) > 50:
            lines.append(f'  ... and {len(self.problems) - 50} more')
        return '\n'.join(lines)


def check_dataset(dataset, workers: int = 0, name: Optional[str] = None, progress: bool = True) -> DatasetReport:
    """Scan every item of ``dataset`` once.

    Args:
        dataset: A built MMEngine dataset (scene datasets or ``PartNetDataset``).
        workers (int): DataLoader worker processes (0 = this process).
        name (str, optional): Name in the summary (default: the class name).
        progress (bool): Show a tqdm progress bar.

    Returns:
        DatasetReport: Records, summary and problems.
    """
    from tqdm import tqdm
    loader = torch.utils.data.DataLoader(
        _ScanDataset(dataset), batch_size=1, shuffle=False, num_workers=workers, collate_fn=_first)
    records = [
        r for r in tqdm(
            loader, total=len(dataset), desc=f'checking {name or type(dataset).__name__}', disable=not progress)
    ]
    part_categories = {}
    for step in getattr(dataset.pipeline, 'transforms', []):
        if type(step).__name__ == 'ComputeObjectBoxes':
            part_categories = dict(step.part_categories)
    classes = dataset.metainfo.get('classes')
    return DatasetReport(
        name=name or type(dataset).__name__,
        num_images=len(dataset),
        records=records,
        num_classes=len(classes) if classes else None,
        expected_format=expected_instance_format(dataset),
        part_categories=part_categories)
