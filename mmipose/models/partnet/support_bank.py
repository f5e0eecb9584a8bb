"""SupportBank: the k annotated support part maps of every part category, loaded and encoded once."""
import os
import os.path as osp
from collections import OrderedDict
from typing import List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from mmipose.registry import MODELS

from .inputs import NUM_PARTS, part_index_to_onehot
from .partnet import PartNet, SupportEncoding
from .reference_tables import NAMED_CATEGORIES, NAMED_CATEGORY_FOLDERS, NAMED_PART_MERGES, resolve_table

ArrayLike = Union[np.ndarray, Tensor, Sequence]


@MODELS.register_module()
class SupportBank(nn.Module):
    """Support part maps per part category, one-hot on the model's device, with a cached encoding.

    Folder layout (``root`` is a config field)::

        <root>/<folder>/*.png     single-channel PNGs of part indices 0..8 (0 = background)

    ``<folder>`` is ``category_folders[category_id]`` (default: the id itself). The first
    ``num_supports`` files whose names end with ``suffix`` (default ``'.png'``), in sorted order, are
    the supports. The authors' ``Full_Parts/support_shape/3/`` tree holds other PNGs besides the part
    maps: use ``suffix='part.png'`` (``reference_tables.REFERENCE_SUPPORT_SUFFIX``) for it.
    Maps are nearest-resized to ``map_size`` (legacy ``F.interpolate`` nearest, as the reference),
    merged (``part_merges``) and one-hot encoded once at construction; files are never re-read.
    A novel category needs only a new folder with k annotated maps (no fine-tuning), or
    :meth:`set_supports` at run time. See docs/supports.md.

    Args:
        root (str, optional): Support folder root. May be None when ``maps`` covers every category.
        categories (Sequence[int] | str): Part category ids served by the bank (its rows, in this
            order), or a table name of ``reference_tables.NAMED_CATEGORIES`` (``'cityscapes'``,
            ``'ade20k'``, ``'coco_stuff'``, ``'part_dataset'``, ``'partnet_basis'``).
        num_supports (int): k, supports per category (1..4 in the paper's ablation; 3 released).
        category_folders (Mapping[int, str], optional): category id -> folder name under ``root``
            (e.g. ``REFERENCE_CATEGORY_FOLDERS``: rider 25 -> '24'), or ``'reference'`` /
            ``'reference_training'`` for the authors' tables. Missing ids map to ``str(id)``.
        part_merges (Mapping[int, Mapping[int, int]], optional): category id -> {source part:
            target part}, applied (simultaneously) to every map of that category, files and
            :meth:`set_supports` alike (reference: washer 36 merges parts 2, 3 into 1), or
            ``'reference'`` for ``REFERENCE_PART_MERGES``.
        suffix (str): File-name ending of support maps.
        map_size (int): Side of the one-hot maps (PartNet works at 64).
        num_parts (int): Part channels (9).
        maps (Mapping[int, array], optional): category id -> (k, H, W) integer part maps used
            instead of files for those categories (see :meth:`from_arrays`).

    Buffers:
        supports (Tensor): (S, k, num_parts, map_size, map_size) one-hot float, row i =
            ``categories[i]``. Not persistent: supports are data, not checkpoint content.
    """

    def __init__(self,
                 root: Optional[str],
                 categories: Union[Sequence[int], str],
                 num_supports: int = 3,
                 category_folders: Union[Mapping[int, Union[str, int]], str, None] = None,
                 part_merges: Union[Mapping[int, Mapping[int, int]], str, None] = None,
                 suffix: str = '.png',
                 map_size: int = 64,
                 num_parts: int = NUM_PARTS,
                 maps: Optional[Mapping[int, ArrayLike]] = None):
        super().__init__()
        categories = [int(c) for c in resolve_table(categories, NAMED_CATEGORIES, 'categories')]
        category_folders = resolve_table(category_folders, NAMED_CATEGORY_FOLDERS, 'category_folders')
        part_merges = resolve_table(part_merges, NAMED_PART_MERGES, 'part_merges')
        if len(set(categories)) != len(categories):
            raise ValueError(f'SupportBank: categories contain duplicates: {categories}')
        if not categories:
            raise ValueError('SupportBank: categories is empty')
        if num_supports < 1:
            raise ValueError(f'SupportBank: num_supports must be >= 1, got {num_supports}')
        self.root = root
        self.num_supports = int(num_supports)
        self.category_folders = {int(k): str(v) for k, v in (category_folders or {}).items()}
        self.part_merges = {int(k): {int(s): int(d) for s, d in v.items()} for k, v in (part_merges or {}).items()}
        self.suffix = suffix
        self.map_size = int(map_size)
        self.num_parts = int(num_parts)
        given = {int(k): v for k, v in (maps or {}).items()}
        onehots = []
        for category in categories:
            if category in given:
                index_maps = self._validate_array(given[category], f'maps[{category}]')
            else:
                index_maps = self._load_category(category)
            onehots.append(self._prepare(category, index_maps))
        self.categories: List[int] = categories
        self.register_buffer('supports', torch.stack(onehots), persistent=False)
        self.register_buffer('_lookup', self._build_lookup(categories), persistent=False)
        self._cache: 'OrderedDict[int, Tuple[tuple, SupportEncoding]]' = OrderedDict()
        self._maps_version = 0
        #: Number of (non-differentiable) encodings computed so far; a cache hit does not count.
        self.num_encodings = 0

    @classmethod
    def from_arrays(cls, maps: Mapping[int, ArrayLike], **kwargs) -> 'SupportBank':
        """Build a bank from in-memory part maps ``{category id: (k, H, W) integer array}``.

        ``kwargs`` go to the constructor (``part_merges``, ``map_size``...); ``num_supports``
        defaults to the number of maps of the first category.
        """
        if not maps:
            raise ValueError('SupportBank.from_arrays: maps is empty')
        kwargs.setdefault('num_supports', len(next(iter(maps.values()))))
        return cls(root=kwargs.pop('root', None), categories=list(maps), maps=maps, **kwargs)

    # ----------------------------------------------------------------------------------------- loading
    def folder_of(self, category: int) -> str:
        """Support folder of a category id under ``root``."""
        return osp.join(self.root or '', self.category_folders.get(int(category), str(int(category))))

    def _load_category(self, category: int) -> np.ndarray:
        if self.root is None:
            raise ValueError(f'SupportBank: no root folder and no maps given for part category {category}')
        folder = self.folder_of(category)
        if not osp.isdir(folder):
            raise FileNotFoundError(f'SupportBank: support folder {folder} of part category {category} does not exist '
                                    f'(expected {self.num_supports} part maps "*{self.suffix}" there, '
                                    'see docs/supports.md)')
        files = sorted(f for f in os.listdir(folder) if f.endswith(self.suffix))
        if len(files) < self.num_supports:
            raise FileNotFoundError(f'SupportBank: part category {category} needs {self.num_supports} support maps '
                                    f'"*{self.suffix}" in {folder}, found {len(files)}')
        return np.stack([self._read_part_map(osp.join(folder, f)) for f in files[:self.num_supports]])

    def _read_part_map(self, path: str) -> np.ndarray:
        with Image.open(path) as image:
            mode = image.mode
            array = np.array(image)
        if array.ndim != 2:
            raise ValueError(f'SupportBank: {path} must be a single-channel PNG of part indices '
                             f'0..{self.num_parts - 1}, '
                             f'got mode {mode!r} with shape {array.shape}')
        return self._check_values(array, path)

    def _check_values(self, array: np.ndarray, name: str) -> np.ndarray:
        if array.dtype.kind == 'f':
            fractional = array[array != np.round(array)]
            if fractional.size:
                raise ValueError(f'SupportBank: {name} holds non-integer part values '
                                 f'{np.unique(fractional)[:8].tolist()}')
        elif array.dtype.kind not in 'iub':
            raise ValueError(f'SupportBank: {name} has dtype {array.dtype}, expected integer part indices')
        array = array.astype(np.int64)
        bad = np.unique(array[(array < 0) | (array >= self.num_parts)])
        if bad.size:
            raise ValueError(f'SupportBank: {name} holds values {bad.tolist()} outside the part indices '
                             f'0..{self.num_parts - 1} (0 = background)')
        return array

    def _validate_array(self, maps: ArrayLike, name: str) -> np.ndarray:
        array = maps.detach().cpu().numpy() if isinstance(maps, Tensor) else np.asarray(maps)
        if array.ndim != 3 or array.shape[0] != self.num_supports:
            raise ValueError(f'SupportBank: {name} must be ({self.num_supports}, H, W) part-index maps, '
                             f'got shape {array.shape}')
        return self._check_values(array, name)

    def _prepare(self, category: int, index_maps: np.ndarray) -> Tensor:
        """(k, h, w) int part indices -> merged, nearest-resized (k, P, size, size) one-hot."""
        merges = self.part_merges.get(category)
        if merges:
            remap = np.arange(self.num_parts)
            for source, target in merges.items():
                if not (0 <= source < self.num_parts and 0 <= target < self.num_parts):
                    raise ValueError(f'SupportBank: part_merges[{category}] maps {source} -> {target}, '
                                     f'parts must be in 0..{self.num_parts - 1}')
                remap[source] = target
            index_maps = remap[index_maps]
        maps = torch.from_numpy(index_maps).float().unsqueeze(1)
        maps = F.interpolate(maps, (self.map_size, self.map_size), mode='nearest')
        return part_index_to_onehot(maps[:, 0].long(), self.num_parts)

    def _build_lookup(self, categories: Sequence[int]) -> Tensor:
        lookup = torch.full((max(categories) + 1, ), -1, dtype=torch.long)
        lookup[torch.tensor(categories)] = torch.arange(len(categories))
        return lookup

    # ----------------------------------------------------------------------------------------- queries
    def index_of(self, category_ids: Union[Tensor, Sequence[int]]) -> Tensor:
        """Rows of the bank for part category ids (vectorised; one host check for unknown ids).

        Args:
            category_ids (Tensor | Sequence[int]): (N,) part category ids.

        Returns:
            Tensor: (N,) long row indices, on the device of ``category_ids`` (bank's if a list).
        """
        ids = torch.as_tensor(
            category_ids,
            dtype=torch.long,
            device=category_ids.device if isinstance(category_ids, Tensor) else self._lookup.device)
        lookup = self._lookup.to(ids.device)
        inside = (ids >= 0) & (ids < lookup.numel())
        rows = torch.where(inside, lookup[ids.clamp(0, lookup.numel() - 1)], torch.full_like(ids, -1))
        if bool((rows < 0).any()):
            unknown = sorted(set(ids[rows < 0].tolist()))
            raise KeyError(f'SupportBank: no supports for part category id(s) {unknown}; the bank serves '
                           f'{self.categories} (add the category to `categories` and give it a support folder)')
        return rows

    def encoding(self, partnet: PartNet) -> SupportEncoding:
        """The supports encoded by ``partnet`` (cached).

        The cache is keyed on the identity, storage (data_ptr), version counters, device and dtype
        of ``partnet``'s parameters and on the support maps, so it refreshes after an optimiser
        step, ``load_state_dict``, ``.to()`` or :meth:`set_supports`. Writes through ``param.data``
        bypass version counters: call :meth:`invalidate` after those. When gradients are enabled
        and any PartNet parameter requires grad (PartNet being trained), the supports are
        re-encoded at every call, uncached, so gradients flow.
        """
        if torch.is_grad_enabled() and any(p.requires_grad for p in partnet.parameters()):
            return partnet.encode_supports(self.supports)
        key = self._cache_key(partnet)
        cached = self._cache.get(id(partnet))
        if cached is not None and cached[0] == key:
            return cached[1]
        with torch.no_grad():
            encoding = partnet.encode_supports(self.supports)
        self.num_encodings += 1
        self._cache[id(partnet)] = (key, encoding)
        while len(self._cache) > 4:  # e.g. the EMA and the trained copy of one model
            self._cache.popitem(last=False)
        return encoding

    def _cache_key(self, partnet: PartNet) -> tuple:
        params = tuple((p.data_ptr(), p._version, p.device, p.dtype) for p in partnet.parameters())
        return (self._maps_version, self.supports.data_ptr(), params)

    def invalidate(self) -> None:
        """Drop cached encodings (the next :meth:`encoding` call re-encodes)."""
        self._cache.clear()

    # ----------------------------------------------------------------------------------------- editing
    def set_supports(self, category_id: int, maps: ArrayLike) -> None:
        """Replace (or add) the supports of one category with edited part maps.

        Args:
            category_id (int): Part category id; a new id is appended as a new row.
            maps (array): (k, H, W) integer part indices 0..num_parts-1, any H, W (nearest-resized).
                ``part_merges`` of the category apply.
        """
        category_id = int(category_id)
        onehot = self._prepare(category_id, self._validate_array(maps, f'set_supports({category_id})'))
        onehot = onehot.to(self.supports)
        if category_id in self.categories:
            supports = self.supports.clone()
            supports[self.categories.index(category_id)] = onehot
        else:
            supports = torch.cat([self.supports, onehot[None]])
            self.categories = self.categories + [category_id]
            self._lookup = self._build_lookup(self.categories).to(self._lookup.device)
        self.supports = supports
        self._maps_version += 1
        self.invalidate()

    def extra_repr(self) -> str:
        return (f'root={self.root!r}, categories={self.categories}, num_supports={self.num_supports}, '
                f'suffix={self.suffix!r}, map_size={self.map_size}')
