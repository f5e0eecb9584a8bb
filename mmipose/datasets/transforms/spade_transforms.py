"""Transform of the SPADE / authors' COCO-Stuff layout (8-bit per-image instance ids)."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmipose.registry import TRANSFORMS

from ..instance_format import InstanceFormatError
from ..spade_instances import COCO_NUM_THING_CATEGORIES, encode_spade_instances


@TRANSFORMS.register_module()
class EncodeSpadeInstances(BaseTransform):
    """Rewrite a SPADE instance map into ``category * 256 + k`` ids (see :mod:`mmipose.datasets.spade_instances`).

    Reads the raw label map (``label_key``, stuffthingmaps values, before ``ShiftLabel``) and the 8-bit
    instance map (``inst_key``); the objects' (label value, instance id) pairs come from
    ``results['spade_pairs']`` when the dataset found the authors' ``<split>_dict.npy``, else from the
    label map under each instance. ``IPOSECocoStuffDataset(layout='spade')`` inserts this step after the
    loaders, so the shipped pipeline (``InstanceClassFromId(divisor=256)``...) runs unchanged.

    Args:
        label_key (str): Key of the raw label map.
        inst_key (str): Key of the instance map, replaced by the (H, W) uint16 ids.
        num_thing_categories (int): COCO thing categories are 1..this.
    """

    def __init__(self,
                 label_key: str = 'label',
                 inst_key: str = 'inst',
                 num_thing_categories: int = COCO_NUM_THING_CATEGORIES):
        self.label_key = label_key
        self.inst_key = inst_key
        self.num_thing_categories = num_thing_categories

    def transform(self, results: dict) -> dict:
        for key in (self.label_key, self.inst_key):
            if key not in results:
                raise KeyError(f'EncodeSpadeInstances: results have no {key!r} map (keys: {sorted(results)}); '
                               'load it before this transform')
        path = results.get(self.inst_key + '_path', self.inst_key)
        stored = np.asarray(results[self.inst_key])
        inst = stored[..., 0] if stored.ndim == 3 and stored.shape[-1] == 1 else stored  # (H, W, 1) as loaded
        if inst.ndim != 2:
            raise ValueError(f'{path}: a SPADE instance map is single-channel, got shape {inst.shape}')
        if inst.max(initial=0) > 255:
            raise InstanceFormatError(
                f'{path}: instance ids up to {int(inst.max())} do not fit the 8-bit SPADE layout; this looks '
                "like a converter map (category * 256 + k): drop layout='spade' and use the standard layout "
                '(docs/datasets.md)')
        label = np.asarray(results[self.label_key])
        label = label[..., 0] if label.ndim == 3 and label.shape[-1] == 1 else label
        if label.shape != inst.shape:
            raise ValueError(f'{path} is {inst.shape[0]}x{inst.shape[1]} but label map '
                             f'{results.get(self.label_key + "_path", self.label_key)} is '
                             f'{label.shape[0]}x{label.shape[1]} (H x W); they must have the same size')
        results[self.inst_key] = encode_spade_instances(label, inst, results.get('spade_pairs'),
                                                        self.num_thing_categories).reshape(stored.shape)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(label_key={self.label_key!r}, inst_key={self.inst_key!r})'
