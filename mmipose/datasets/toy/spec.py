"""What the toy street scenes contain: semantic classes, object categories and their parts.

Semantic classes (label ids, written to the label PNGs)::

    0 void (never drawn; kept so "0 = don't care" holds like in Cityscapes)
    1 sky   2 building   3 road   4 sidewalk   5 vegetation
    6 person   7 car   8 bus   9 tree          (object classes: instances + parts)

Part categories reuse the reference's Cityscapes-PPS ids so the toy data goes through the same
category -> support path as Cityscapes: 24 person, 26 car, 28 bus. The tree has no reference id
and gets the toy-only id 101. Part numbering follows Cityscapes-PPS (panoptic_parts'
``cpp_datasetspec.yaml``): person 1 torso, 2 head, 3 arm, 4 leg; vehicles 1 window, 2 wheel,
3 light, 4 license plate, 5 chassis; tree 1 trunk, 2 crown.

``bus`` (28) is held out of PartNet pretraining as the novel category; person, car and tree are
the basis categories.
"""
from typing import Dict, List, Tuple

TOY_CLASSES: Tuple[str,
                   ...] = ('void', 'sky', 'building', 'road', 'sidewalk', 'vegetation', 'person', 'car', 'bus', 'tree')
VOID, SKY, BUILDING, ROAD, SIDEWALK, VEGETATION, PERSON, CAR, BUS, TREE = range(len(TOY_CLASSES))

#: RGB colours of the classes for label visualisation.
TOY_PALETTE: Tuple[Tuple[int, int, int], ...] = (
    (0, 0, 0),  # void
    (70, 130, 180),  # sky
    (70, 70, 70),  # building
    (128, 64, 128),  # road
    (244, 35, 232),  # sidewalk
    (107, 142, 35),  # vegetation
    (220, 20, 60),  # person
    (0, 0, 142),  # car
    (0, 60, 100),  # bus
    (152, 251, 152),  # tree
)

#: label id -> part-category id (the dataset's class -> part-category table).
TOY_PART_CATEGORIES: Dict[int, int] = {PERSON: 24, CAR: 26, BUS: 28, TREE: 101}

#: part-category id -> part names, index i+1 = part id (0 = background).
TOY_PART_NAMES: Dict[int, Tuple[str, ...]] = {
    24: ('torso', 'head', 'arm', 'leg'),
    26: ('window', 'wheel', 'light', 'license plate', 'chassis'),
    28: ('window', 'wheel', 'light', 'license plate', 'chassis'),
    101: ('trunk', 'crown'),
}

#: PartNet basis (trained) and novel (held-out) toy part categories.
TOY_BASIS_CATEGORIES: List[int] = [24, 26, 101]
TOY_NOVEL_CATEGORIES: List[int] = [28]

# Cityscapes-style instance encoding (mmipose.datasets.object_boxes.INSTANCE_OFFSET): object pixels =
# label_id * INSTANCE_OFFSET + k (k >= 1), stuff pixels = their label id; fits in uint16.
from mmipose.datasets.object_boxes import INSTANCE_OFFSET  # noqa: E402,F401


def toy_metainfo() -> dict:
    """Metainfo shared by the toy datasets (classes, palette, category tables)."""
    return dict(
        classes=TOY_CLASSES,
        palette=TOY_PALETTE,
        part_categories=dict(TOY_PART_CATEGORIES),
        part_names={
            k: list(v)
            for k, v in TOY_PART_NAMES.items()
        },
        basis_categories=list(TOY_BASIS_CATEGORIES),
        novel_categories=list(TOY_NOVEL_CATEGORIES))
