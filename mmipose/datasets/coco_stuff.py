"""COCO-Stuff 164k for iPOSE: raw stuff+thing label ids, instance maps ``category*1000+k``."""
from mmipose.registry import DATASETS
from .semantic_base import IPOSESemanticDataset

# COCO category id (= instance id // 1000 in the instance maps) -> part category, in the
# reference's order.
COCO_OBJECT_CATEGORIES = {1: 24, 2: 2, 3: 26, 4: 14, 5: 1, 6: 28, 7: 19, 8: 27, 9: 4, 13: 37,
                          16: 3, 17: 8, 18: 12, 19: 13, 20: 17, 21: 10, 44: 5, 62: 9, 72: 20,
                          78: 38, 24: 40}


@DATASETS.register_module()
class IPOSECocoStuffDataset(IPOSESemanticDataset):
    """``<split>/*.jpg``, ``stuffthingmaps_trainval2017/<split>/*.png`` and instance maps.

    Labels are the raw stuffthingmaps values; ``ShiftLabel`` makes them ``raw + 1`` with 255
    (unlabeled) -> 0, the don't-care class (183 semantic channels, as the reference). Instance
    maps are 16-bit PNGs with ids ``category_id * 1000 + k`` under ``inst_dir`` (they never
    collide with label values, unlike the reference's maps).

    Args:
        data_root (str): COCO root.
        split (str): 'train2017' or 'val2017'.
        inst_dir (str): Folder of the instance maps under the root.
    """

    def __init__(self, data_root: str, split: str = 'train2017', inst_dir: str = 'instance_maps',
                 **kwargs):
        kwargs.setdefault('metainfo', dict(classes=('unlabeled', ) + tuple(f'class_{i}' for i in range(182))))
        super().__init__(
            data_root=data_root,
            data_prefix=dict(img=split, label=f'stuffthingmaps_trainval2017/{split}',
                             inst=f'{inst_dir}/{split}'),
            img_suffix='.jpg', label_suffix='.png', inst_suffix='.png', **kwargs)
