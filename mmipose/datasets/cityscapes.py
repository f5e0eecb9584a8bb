"""Cityscapes for iPOSE: 35 label ids, instance ids ``class*1000+k`` (16-bit PNG)."""
from mmipose.registry import DATASETS
from .semantic_base import IPOSESemanticDataset

# label id -> part category of the objects (the part category of a Cityscapes object is its
# label id; the SupportBank maps rider/train/motorcycle/bicycle to their support folders).
CITYSCAPES_OBJECT_CATEGORIES = {24: 24, 25: 25, 26: 26, 27: 27, 28: 28, 31: 31, 32: 32, 33: 33}


def _cityscapes_classes() -> tuple:
    from cityscapesscripts.helpers.labels import labels
    names = {label.id: label.name for label in labels if label.id >= 0}
    return tuple(names.get(i, f'unused_{i}') for i in range(35))


@DATASETS.register_module()
class IPOSECityscapesDataset(IPOSESemanticDataset):
    """``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` with ``gtFine`` label and instance ids.

    Labels are the 34 ``labelIds`` used directly (0 = unlabeled, the don't-care class; 35
    semantic channels as the reference). Objects: instances (id >= 1000) of person, rider, car,
    truck, bus, train, motorcycle, bicycle.

    Args:
        data_root (str): Folder holding ``leftImg8bit/`` and ``gtFine/``.
        split (str): 'train' or 'val'.
    """

    def __init__(self, data_root: str, split: str = 'train', **kwargs):
        kwargs.setdefault('metainfo', dict(classes=_cityscapes_classes()))
        super().__init__(
            data_root=data_root,
            data_prefix=dict(img=f'leftImg8bit/{split}', label=f'gtFine/{split}',
                             inst=f'gtFine/{split}'),
            img_suffix='_leftImg8bit.png', label_suffix='_gtFine_labelIds.png',
            inst_suffix='_gtFine_instanceIds.png', **kwargs)
