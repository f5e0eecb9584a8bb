"""Dataset arguments of ``IPOSECocoStuffDataset(layout='spade')`` (SPADE / the authors' COCO-Stuff folders)."""
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.logging import print_log

from .spade_instances import read_spade_dict

SPADE_SPLITS = ('train', 'val')
_LOADERS = ('LoadImageChecked', 'LoadImageFromFile', 'mmagic.LoadImageFromFile')


def spade_split_name(split: str) -> str:
    """'train' / 'val' (the 2017 names are accepted, so a shipped config needs only ``layout='spade'``)."""
    name = split[:-len('2017')] if split.endswith('2017') else split
    if name not in SPADE_SPLITS:
        raise ValueError(f"IPOSECocoStuffDataset(layout='spade'): split must be one of {SPADE_SPLITS} "
                         f'(or train2017 / val2017), got {split!r}')
    return name


def with_spade_encoding(pipeline: Sequence) -> list:
    """``pipeline`` with ``EncodeSpadeInstances`` right after the last loader of ``label`` / ``inst``.

    Raises:
        ValueError: the pipeline loads no instance map (nothing to encode).
    """
    steps = list(pipeline)
    if any(isinstance(s, dict) and s.get('type') == 'EncodeSpadeInstances' for s in steps):
        return steps
    loaders = [
        i for i, s in enumerate(steps)
        if isinstance(s, dict) and s.get('type') in _LOADERS and s.get('key') in ('label', 'inst')
    ]
    if not any(steps[i].get('key') == 'inst' for i in loaders):
        raise ValueError("IPOSECocoStuffDataset(layout='spade'): the pipeline loads no 'inst' map "
                         f'(types {[s.get("type") for s in steps if isinstance(s, dict)]}); the 8-bit '
                         'instance ids must be encoded right after loading')
    steps.insert(max(loaders) + 1, dict(type='EncodeSpadeInstances', label_key='label', inst_key='inst'))
    return steps


def spade_dataset_args(data_root: str, split: str, pipeline: Sequence) -> dict:
    """``data_prefix``, ``pipeline`` and ``spade_dict`` (path or None) of the SPADE layout; logs the class source."""
    name = spade_split_name(split)
    dict_path: Optional[str] = osp.join(data_root, f'{name}_dict.npy')
    if osp.isfile(dict_path):
        source = f"the authors' precomputed {dict_path}"
    else:
        source = (f'the label map under each instance (no {dict_path}; one object per (thing label, '
                  'instance id) pair, the rule of the authors\' create_ins_dict.py)')
        dict_path = None
    print_log(
        f"IPOSECocoStuffDataset(layout='spade', split={name!r}): 8-bit instance maps in "
        f'{osp.join(data_root, name + "_inst")}; instance classes from {source}',
        logger='current')
    return dict(
        data_prefix=dict(img=f'{name}_img', label=f'{name}_label', inst=f'{name}_inst'),
        pipeline=with_spade_encoding(pipeline),
        spade_dict=dict_path)


def attach_spade_pairs(items: List[dict], dict_path: Optional[str]) -> None:
    """Give every item its (label value, instance id) object pairs from the authors' dict (in place).

    Raises:
        KeyError: the dict has no entry for an image's label file.
    """
    if dict_path is None:
        return
    pairs = read_spade_dict(dict_path)
    for item in items:
        key = osp.basename(item['label_path'])
        if key not in pairs:
            raise KeyError(f'{dict_path} has no entry {key!r} for {item["label_path"]}; rebuild the dict for '
                           'this split or delete it (classes then come from the label maps)')
        item['spade_pairs'] = pairs[key]
