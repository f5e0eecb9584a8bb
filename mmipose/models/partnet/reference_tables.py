"""The reference implementation's PartNet category tables, as plain data for configs.

Source: csyxwei/iPOSE ``generator_partsyn2.py`` (synthesis copy) and the dataset option files
(``partsyn2.py`` ``mapping_dict`` and the ``*InsDataset.py`` category lists). :class:`SupportBank` takes these
as arguments; nothing in the library reads them implicitly. Ids are part-dataset category ids (support folder names):
1..20 Pascal VOC order, 24..28 Cityscapes-PPS, 36..40 manually annotated novel categories; 31..33
and 35 exist only as aliases in the folder mapping.
"""
from typing import Dict, List

#: Human-readable names of the part-dataset category ids.
PART_CATEGORY_NAMES: Dict[int, str] = {
    1: 'aeroplane',
    2: 'bicycle',
    3: 'bird',
    4: 'boat',
    5: 'bottle',
    6: 'bus',
    7: 'car',
    8: 'cat',
    9: 'chair',
    10: 'cow',
    11: 'diningtable',
    12: 'dog',
    13: 'horse',
    14: 'motorbike',
    15: 'person',
    16: 'pottedplant',
    17: 'sheep',
    18: 'sofa',
    19: 'train',
    20: 'tvmonitor',
    24: 'person (Cityscapes)',
    25: 'rider',
    26: 'car (Cityscapes)',
    27: 'truck',
    28: 'bus (Cityscapes)',
    31: 'train (Cityscapes alias)',
    32: 'motorcycle (Cityscapes alias)',
    33: 'bicycle (Cityscapes alias)',
    35: 'car (ADE alias)',
    36: 'washer',
    37: 'stop sign',
    38: 'microwave',
    39: 'van',
    40: 'zebra'
}

#: Category id -> support folder at synthesis (``mapping_dict`` of generator_partsyn2.py): identity
#: for 1..49 except these aliases (e.g. VOC car 7 uses the Cityscapes car supports 26).
REFERENCE_CATEGORY_FOLDERS: Dict[int, str] = {
    **{
        k: str(k)
        for k in range(1, 50)
    }, 6: '28',
    7: '26',
    15: '24',
    25: '24',
    31: '19',
    32: '14',
    33: '2',
    35: '26',
    39: '7',
    40: '13'
}

#: The training copy (generator_partsyn.py) maps van 39 to 26 instead of 7; 39 is not trained.
REFERENCE_TRAINING_CATEGORY_FOLDERS: Dict[int, str] = {**REFERENCE_CATEGORY_FOLDERS, 39: '26'}

#: Part merges applied to the supports at synthesis: ADE washer (36) parts 2 and 3 become part 1.
REFERENCE_PART_MERGES: Dict[int, Dict[int, int]] = {36: {2: 1, 3: 1}}

#: File-name ending of the support part maps in the authors' ``Full_Parts/support_shape/<k>/<folder>/``
#: (those folders hold other PNGs too); mmipose's own default is any ``.png``.
REFERENCE_SUPPORT_SUFFIX = 'part.png'

_VOC_AND_CITYSCAPES: List[int] = list(range(1, 21)) + [24, 25, 26, 27, 28]

#: ``opt.categorys`` per dataset: the categories whose supports PartNet is given.
REFERENCE_CATEGORIES: Dict[str, List[int]] = {
    'part_dataset': _VOC_AND_CITYSCAPES + [36, 37],
    'cityscapes': [24, 25, 26, 27, 28, 31, 32, 33],
    'ade20k': _VOC_AND_CITYSCAPES + [36, 38, 39],
    'coco_stuff': _VOC_AND_CITYSCAPES + [36, 37, 38, 39, 40],
}

#: PartNet pretraining / validation categories (``selected_cats``): cat (8) is held out as novel.
PARTNET_BASIS_CATEGORIES: List[int] = [c for c in _VOC_AND_CITYSCAPES if c != 8]
PARTNET_NOVEL_CATEGORIES: List[int] = [8]

#: Table names usable in configs instead of the literal tables (MMEngine configs cannot index
#: imported objects): ``category_folders='reference'``, ``part_merges='reference'``,
#: ``categories='coco_stuff'``.
NAMED_CATEGORY_FOLDERS = {
    'reference': REFERENCE_CATEGORY_FOLDERS,
    'reference_training': REFERENCE_TRAINING_CATEGORY_FOLDERS
}
NAMED_PART_MERGES = {'reference': REFERENCE_PART_MERGES, 'none': {}}
NAMED_CATEGORIES = {**REFERENCE_CATEGORIES, 'partnet_basis': PARTNET_BASIS_CATEGORIES}


def resolve_table(value, tables: dict, argument: str):
    """Return ``tables[value]`` when ``value`` is a table name, else ``value`` unchanged."""
    if isinstance(value, str):
        if value not in tables:
            raise KeyError(f'{argument}={value!r} is not a known table; use one of {sorted(tables)} '
                           'or give it explicitly')
        return tables[value]
    return value
