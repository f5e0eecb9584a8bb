"""COCO-Stuff 164k for iPOSE: raw stuff+thing label ids, instance maps ``category*256+k``."""
from mmipose.registry import DATASETS

from .semantic_base import IPOSESemanticDataset

# Instance map ids are ``category_id * COCO_INSTANCE_DIVISOR + k`` (tools/dataset_converters/
# coco_instances.py); category * 1000 would not fit the 16-bit PNG (category ids go up to 90).
COCO_INSTANCE_DIVISOR = 256
# COCO thing category ids 12, 26, 29, 30, 45, 66, 68, 69, 71, 83, 91 are unused: their raw
# stuffthingmaps values (category_id - 1) never occur and have no class in the 171-class list.
COCO_UNUSED_RAW_IDS = (11, 25, 28, 29, 44, 65, 67, 68, 70, 82, 90)
COCO_NUM_RAW_IDS = 182


def coco_stuff_metainfo() -> dict:
    """Names and colours of the 183 labels ``raw + 1`` (0 = unlabeled, black).

    The 171 used raw ids take MMSeg's COCO-Stuff names and colours in order; the 11 unused ids
    are ``'unused_<raw>'`` (black).

    Returns:
        dict: ``classes`` (183 names) and ``palette`` (183 RGB rows).
    """
    from mmseg.datasets import COCOStuffDataset
    names = iter(COCOStuffDataset.METAINFO['classes'])
    colours = iter(COCOStuffDataset.METAINFO['palette'])
    classes, palette = ['unlabeled'], [[0, 0, 0]]
    for raw in range(COCO_NUM_RAW_IDS):
        if raw in COCO_UNUSED_RAW_IDS:
            classes.append(f'unused_{raw}')
            palette.append([0, 0, 0])
        else:
            classes.append(next(names))
            palette.append(list(next(colours)))
    return dict(classes=tuple(classes), palette=palette)


@DATASETS.register_module()
class IPOSECocoStuffDataset(IPOSESemanticDataset):
    """``<split>/*.jpg``, ``stuffthingmaps_trainval2017/<split>/*.png`` and instance maps.

    Labels are the raw stuffthingmaps values; ``ShiftLabel`` makes them ``raw + 1`` with 255
    (unlabeled) -> 0, the don't-care class (183 semantic channels, as the reference). Instance
    maps are 16-bit PNGs with ids ``category_id * 256 + k`` (0 = no object) under ``inst_dir``,
    written by ``tools/dataset_converters/coco_instances.py``; ids are >= 257, so they never
    collide with label values, unlike the reference's maps.

    ``layout='spade'`` reads the layout of SPADE, OASIS and the authors' code instead
    (``<split>_img/``, ``<split>_label/``, ``<split>_inst/`` with 8-bit per-image instance ids and
    an optional ``<split>_dict.npy``; :mod:`mmipose.datasets.spade_instances`): the dataset inserts
    ``EncodeSpadeInstances`` after the pipeline's loaders, which rewrites each map into the
    ``category_id * 256 + k`` ids above, so the pipeline and the object rows are those of the
    converter route.

    Args:
        data_root (str): COCO root (``layout='spade'``: the folder holding ``train_img/``...).
        split (str): 'train2017' or 'val2017' ('train' / 'val' with ``layout='spade'``, which also
            accepts the 2017 names).
        inst_dir (str): Folder of the instance maps under the root (standard layout).
        layout (str): 'standard' or 'spade'.
        **kwargs: ``pipeline``, ``test_mode``, ``metainfo``... of ``BaseDataset``.
    """

    def __init__(self,
                 data_root: str,
                 split: str = 'train2017',
                 inst_dir: str = 'instance_maps',
                 layout: str = 'standard',
                 **kwargs):
        kwargs.setdefault('metainfo', coco_stuff_metainfo())
        if layout not in ('standard', 'spade'):
            raise ValueError(f"IPOSECocoStuffDataset: layout must be 'standard' or 'spade', got {layout!r}")
        self.layout = layout
        if layout == 'spade':
            from .spade_layout import spade_dataset_args
            spade_args = spade_dataset_args(data_root, split, kwargs.get('pipeline', ()))
            self.spade_dict = spade_args.pop('spade_dict')
            kwargs.update(spade_args)
            super().__init__(data_root=data_root, img_suffix='.jpg', label_suffix='.png', inst_suffix='.png', **kwargs)
            return
        super().__init__(
            data_root=data_root,
            data_prefix=dict(img=split, label=f'stuffthingmaps_trainval2017/{split}', inst=f'{inst_dir}/{split}'),
            img_suffix='.jpg',
            label_suffix='.png',
            inst_suffix='.png',
            **kwargs)

    def load_data_list(self):
        items = super().load_data_list()
        if self.layout == 'spade':
            from .spade_layout import attach_spade_pairs
            attach_spade_pairs(items, self.spade_dict)
        return items
