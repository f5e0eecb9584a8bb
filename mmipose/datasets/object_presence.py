"""Build-time check that a scene dataset has objects: a wrong instance-map format must not train silently."""
import logging
import random
import warnings
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine.logging import print_log

from .instance_format import InstanceFormatError


class NoObjectsError(ValueError):
    """No probed image of a dataset has an object of a part category."""


def _spread(count: int, num: int) -> List[int]:
    if count <= num:
        return list(range(count))
    return sorted({int(round(i * (count - 1) / (num - 1))) for i in range(num)}) if num > 1 else [0]


def results_until_boxes(dataset, index: int) -> Optional[dict]:
    """Run ``dataset``'s pipeline on item ``index`` up to the step that writes ``results['objects']``.

    Returns:
        dict | None: The results at that point (``objects`` (K, 8) rows, the working-size maps), or
        None when no step writes objects.
    """
    results = dataset.get_data_info(index)
    for transform in dataset.pipeline.transforms:
        results = transform(results)
        if results is None:
            return None
        if 'objects' in results:
            return results
    return None


def objects_until_boxes(dataset, index: int) -> Optional[np.ndarray]:
    """(K, 8) object rows of item ``index`` (:func:`results_until_boxes`), None without a box step."""
    results = results_until_boxes(dataset, index)
    return None if results is None else np.asarray(results['objects'])


def probe_objects(dataset, num_samples: int) -> Tuple[int, int, List[str], List[str]]:
    """Objects in ``num_samples`` evenly spread items, with every random state restored afterwards.

    Returns:
        tuple: (items probed that reached the object step, of them with >= 1 object, the image paths
        probed, the errors of items whose pipeline failed).
    """
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    reached, with_objects, paths, errors = 0, 0, [], []
    try:
        for index in _spread(len(dataset), num_samples):
            path = dataset.get_data_info(index).get('img_path', str(index))
            try:
                rows = objects_until_boxes(dataset, index)
            except InstanceFormatError:  # systematic: every image has the wrong format
                raise
            except Exception as error:  # the sample fails again, with its own message, when loaded
                errors.append(f'{path}: {error}')
                continue
            if rows is None:
                continue
            reached += 1
            with_objects += int(len(rows) > 0)
            paths.append(path)
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])
    return reached, with_objects, paths, errors


def check_objects_present(dataset, num_samples: int = 16, allow_no_objects: bool = False) -> None:
    """Fail (or warn loudly) when none of ``num_samples`` spread items has an object.

    A scene dataset whose pipeline yields no object rows trains without PartNet input on every image:
    typically an instance-map format the pipeline does not expect, or a class table that matches no
    class of the data. Items whose pipeline fails are skipped (they fail with their own error when
    loaded), except an :class:`InstanceFormatError`, which is raised at once; a pipeline without a
    ``ComputeObjectBoxes`` step is not checked.

    Args:
        dataset: A built MMEngine dataset (``get_data_info``, ``pipeline``).
        num_samples (int): Items probed (0 = no check).
        allow_no_objects (bool): Warn instead of raising (a subset, e.g. ``indices``, may be empty).

    Raises:
        NoObjectsError: no probed item has an object and ``allow_no_objects`` is False.
    """
    if num_samples <= 0 or len(dataset) == 0:
        return
    reached, with_objects, paths, _ = probe_objects(dataset, num_samples)
    if reached == 0 or with_objects > 0:
        return
    name = type(dataset).__name__
    message = (f'{name}: none of the {reached} images probed (of {len(dataset)}; first {paths[0]}) has an '
               'object of a part category. Training would see no objects, so PartNet never runs. Usual '
               "causes: instance maps in another format than the pipeline expects (COCO-Stuff SPADE 8-bit "
               "*_inst maps: layout='spade'), or object_part_categories matching no class of the data. Scan "
               'everything with tools/analysis/check_dataset.py CONFIG.')
    if not allow_no_objects:
        raise NoObjectsError(message + ' If this is intended, pass allow_no_objects=True to the dataset.')
    print_log(message, logger='current', level=logging.WARNING)
    warnings.warn(message)
