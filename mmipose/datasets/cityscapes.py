"""Cityscapes for iPOSE: 35 label ids, instance ids ``class*1000+k`` (16-bit PNG)."""
from mmipose.registry import DATASETS

from .semantic_base import IPOSESemanticDataset

CITYSCAPES_NUM_LABELS = 35  # label ids 0..33 + the never-used 34 (the reference's semantic_nc)


def cityscapes_metainfo() -> dict:
    """Names and official RGB colours of the 35 label ids (cityscapesscripts' ``labels``).

    Returns:
        dict: ``classes`` (35 names; id 34 is ``'unused_34'``) and ``palette`` (35 RGB rows).
    """
    from cityscapesscripts.helpers.labels import labels
    by_id = {label.id: label for label in labels if 0 <= label.id < CITYSCAPES_NUM_LABELS}
    classes = tuple(by_id[i].name if i in by_id else f'unused_{i}' for i in range(CITYSCAPES_NUM_LABELS))
    palette = [list(by_id[i].color) if i in by_id else [0, 0, 0] for i in range(CITYSCAPES_NUM_LABELS)]
    return dict(classes=classes, palette=palette)


@DATASETS.register_module()
class IPOSECityscapesDataset(IPOSESemanticDataset):
    """``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` with ``gtFine`` label and instance ids.

    Labels are the ``labelIds`` used directly (0 = unlabeled, the don't-care class; 35
    semantic channels as the reference). ``*_gtFine_instanceIds.png`` are 16-bit: objects are
    instances (id >= 1000, ``id // 1000`` = label id) of person, rider, car, truck, bus, train,
    motorcycle, bicycle; crowd regions carry the bare label id (< 1000) and are no objects.

    Args:
        data_root (str): Folder holding ``leftImg8bit/`` and ``gtFine/``.
        split (str): 'train' or 'val'.
        **kwargs: ``pipeline``, ``test_mode``, ``metainfo``... of ``BaseDataset``.
    """

    def __init__(self, data_root: str, split: str = 'train', **kwargs):
        kwargs.setdefault('metainfo', cityscapes_metainfo())
        super().__init__(
            data_root=data_root,
            data_prefix=dict(img=f'leftImg8bit/{split}', label=f'gtFine/{split}', inst=f'gtFine/{split}'),
            img_suffix='_leftImg8bit.png',
            label_suffix='_gtFine_labelIds.png',
            inst_suffix='_gtFine_instanceIds.png',
            **kwargs)
