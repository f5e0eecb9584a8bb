"""Dataset label value -> class id of the evaluation segmenter (255 = pixel not evaluated).

The generator is conditioned on the datasets' own label values (Cityscapes 35 label ids, ADE20K
0..150 with 0 = other, COCO-Stuff raw + 1 with 0 = unlabeled); MMSeg segmenters predict
Cityscapes' 19 train ids, ADE20K's 150 classes and COCO-Stuff 164k's 171 classes. A table ``t``
has one entry per label value ``l``: ``t[l]`` is the segmenter class of ``l`` or 255.
"""
from typing import Callable, Dict, List, Sequence, Union

IGNORE_INDEX = 255


def cityscapes_label_ids_to_train_ids() -> List[int]:
    """35 label ids -> the 19 train ids of cityscapesscripts (void classes and id 34 -> 255)."""
    from cityscapesscripts.helpers.labels import labels
    train_id = {label.id: label.trainId for label in labels if label.id >= 0}
    table = []
    for label_id in range(35):
        value = train_id.get(label_id, IGNORE_INDEX)
        table.append(value if 0 <= value < 19 else IGNORE_INDEX)
    return table


def ade20k_reduce_zero_label() -> List[int]:
    """151 labels -> 150 classes: 0 (other) -> 255, ``l`` -> ``l - 1`` (MMSeg reduce_zero_label)."""
    return [IGNORE_INDEX] + list(range(150))


def coco_stuff_to_171_classes() -> List[int]:
    """183 labels (raw + 1, 0 = unlabeled) -> MMSeg's 171 COCO-Stuff 164k classes.

    The 171 used raw ids (80 things, 91 stuff) are numbered 0..170 in increasing order (MMSeg's
    ``coco_stuff164k.py`` converter); unlabeled and the 11 unused thing ids -> 255.
    """
    from mmipose.datasets.coco_stuff import COCO_NUM_RAW_IDS, COCO_UNUSED_RAW_IDS
    table = [IGNORE_INDEX]
    used = [raw for raw in range(COCO_NUM_RAW_IDS) if raw not in COCO_UNUSED_RAW_IDS]
    position = {raw: i for i, raw in enumerate(used)}
    table += [position.get(raw, IGNORE_INDEX) for raw in range(COCO_NUM_RAW_IDS)]
    return table


CLASS_MAP_PRESETS: Dict[str, Callable[[], List[int]]] = dict(
    cityscapes=cityscapes_label_ids_to_train_ids, ade20k=ade20k_reduce_zero_label, coco_stuff=coco_stuff_to_171_classes)


def resolve_class_map(class_map: Union[str, Sequence[int]]) -> List[int]:
    """A preset name (``'cityscapes'``, ``'ade20k'``, ``'coco_stuff'``) or an explicit table.

    Raises:
        KeyError: unknown preset.
        ValueError: empty table or an entry that is neither a class id >= 0 nor 255.
    """
    if isinstance(class_map, str):
        if class_map not in CLASS_MAP_PRESETS:
            raise KeyError(f'class_map {class_map!r} is no preset ({sorted(CLASS_MAP_PRESETS)}); '
                           'give a list instead (dataset label value -> segmenter class, 255 = '
                           'ignore)')
        return CLASS_MAP_PRESETS[class_map]()
    table = [int(v) for v in class_map]
    bad = [v for v in table if not 0 <= v <= IGNORE_INDEX]
    if not table or bad:
        raise ValueError(f'class_map must list segmenter class ids >= 0 or {IGNORE_INDEX} per '
                         f'label value; got {len(table)} entries, invalid {bad[:5]}')
    return table
