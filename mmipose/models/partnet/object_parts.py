"""Object-part inference: crop every object of a batch, run PartNet once, paste parts back."""
import hashlib
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmipose.datasets.object_boxes import OBJECT_ROW_WIDTH, make_even_extent
from mmipose.registry import MODELS

from .partnet import PartNet
from .support_bank import SupportBank

#: (N,1,64,64) queries, (N,) part categories -> part features (N,288,64,64), logits (N,9,64,64)
PartNetRunner = Callable[[Tensor, Tensor], Tuple[Tensor, Tensor]]


@dataclass(frozen=True)
class ObjectCrop:
    """Where one object's 64x64 PartNet input comes from and where its output goes.

    Attributes:
        batch (int): Image index b.
        value (int): Instance value of the object in the instance map.
        box (tuple): (hs, he, ws, we) after the reference's +-2 expansion and even rule.
        aspect_size (tuple, optional): (h, w) of the aspect-restored crop, None when H0 == W0.
        pad (tuple): (top, bottom, left, right) zero padding to (nearly) a square.
        square (int): rs, the side the 64x64 outputs are resized back to.
    """
    batch: int
    value: int
    box: Tuple[int, int, int, int]
    aspect_size: Optional[Tuple[int, int]]
    pad: Tuple[int, int, int, int]
    square: int


def plan_object_crop(batch: int, row: Sequence[int], height: int, width: int) -> ObjectCrop:
    """The reference's crop geometry (its ``PartGenerator``: box, aspect restore, pad, resize) for one object row.

    Args:
        batch (int): Image index.
        row (Sequence[int]): ``[instance_value, part_category, hs, he, ws, we, H0, W0]``.
        height (int): H of the maps.
        width (int): W of the maps.
    """
    value, _, hs, he, ws, we, h0, w0 = (int(v) for v in row)
    hs, ws = max(0, hs - 2), max(0, ws - 2)
    he, we = min(he + 2, height), min(we + 2, width)
    hs, he = make_even_extent(hs, he, height)
    ws, we = make_even_extent(ws, we, width)
    h, w = he - hs, we - ws
    aspect_size = None
    if h0 > w0:
        aspect_size = (int(h * h0 / w0), w)
    elif w0 > h0:
        aspect_size = (h, int(w * w0 / h0))
    hh, ww = aspect_size or (h, w)
    if hh > ww:
        r = (hh - ww) // 2
        pad, square = (0, 0, r, r), hh
    elif ww > hh:
        r = (ww - hh) // 2
        pad, square = (r, r, 0, 0), ww
    else:
        pad, square = (0, 0, 0, 0), hh
    return ObjectCrop(batch, value, (hs, he, ws, we), aspect_size, pad, square)


def crop_object_masks(inst: Tensor, crops: Sequence[ObjectCrop], size: int = 64) -> Tensor:
    """The binary object masks PartNet sees: crop, aspect-restore, pad to a square, nearest-resize.

    Args:
        inst (Tensor): (B,1,H,W) integer instance map.
        crops (Sequence[ObjectCrop]): Planned crops (:func:`plan_object_crop`), N >= 1.
        size (int): Side of the queries (PartNet's map size).

    Returns:
        Tensor: (N,1,size,size) float masks in {0, 1}.
    """
    queries = []
    for crop in crops:
        hs, he, ws, we = crop.box
        mask = (inst[crop.batch, :, hs:he, ws:we] == crop.value).float()[None]
        if crop.aspect_size is not None:
            mask = F.interpolate(mask, size=crop.aspect_size, mode='nearest')
        top, bottom, left, right = crop.pad
        mask = F.pad(mask, (left, right, top, bottom))
        queries.append(F.interpolate(mask, size=(size, size), mode='nearest'))
    return torch.cat(queries)


@MODELS.register_module()
class ObjectPartInferencer(nn.Module):
    """Part features and part logits of every object in a batch (reference ``PartGenerator``).

    For each object row (data contract ``[instance_value, part_category, hs, he, ws, we, H0, W0]``):
    the box is expanded by 2 px and made even, the object mask is cropped, aspect-restored
    (nearest) when ``H0 != W0``, zero-padded to a square and nearest-resized to 64x64. All
    objects of the batch then go through **one** batched PartNet call (split only by
    ``chunk_size``) with the support bank's cached encoding. Outputs are pasted back at full
    resolution in row order (later objects overwrite earlier ones where masks overlap): features
    bilinear, logits nearest, both through the same resize/slice as the reference, blended with
    the object's own mask taken through the same path.

    The crop geometry is computed on the host from the object tables (moved to the CPU in one
    transfer per batch); the device work is then queued without host synchronisation. Objects
    whose category has no supports are skipped (a warning names the category once).

    A reference quirk is **kept** for checkpoint parity (see docs/reference_differences.md): when the
    aspect-restored crop has an odd ``hh - ww``, the padding ``(hh - ww) // 2`` on both sides leaves it one
    pixel short of a square, and it is stretched to 64x64 as the reference does. Fixed: where the even rule cannot
    make a box extent even (an odd image side fully covered by the box) the reference fails to
    paste (shape mismatch); here the sliced output is resized (same mode) to the box instead.

    Args:
        partnet (dict | PartNet): PartNet config or module (frozen unless ``finetune``); its
            weights come from ``PartNet(checkpoint=...)``.
        support_bank (dict | SupportBank): Support bank config or module.
        chunk_size (int, optional): Objects per PartNet call (memory knob; no numeric effect).
        finetune (bool): Train PartNet with the synthesis losses (the reference never does).
        cache_size (int): Keep the outputs of up to this many images (0 = no cache). PartNet is
            frozen and deterministic, so an image whose instance map and object rows were seen
            before gets its stored outputs back instead of a PartNet call (synthesis training sees
            every scene many times). Keyed on the map's and rows' bytes, so a flipped or
            re-cropped scene is a different entry; emptied whenever the support encoding changes
            (new PartNet weights, :meth:`SupportBank.set_supports`). Entries hold only the
            non-zero pixels (objects). Off with ``finetune``. Costs one device-to-host copy of the
            instance map per batch: meant for CPU / small-data runs (the toy demo).
    """

    def __init__(self,
                 partnet: Union[dict, PartNet],
                 support_bank: Union[dict, SupportBank],
                 chunk_size: Optional[int] = None,
                 finetune: bool = False,
                 cache_size: int = 0):
        super().__init__()
        self.partnet = MODELS.build(partnet) if isinstance(partnet, dict) else partnet
        self.support_bank = MODELS.build(support_bank) if isinstance(support_bank, dict) else support_bank
        self.chunk_size = chunk_size
        self.finetune = finetune
        if cache_size < 0:
            raise ValueError(f'ObjectPartInferencer: cache_size must be >= 0, got {cache_size}')
        self.cache_size = 0 if finetune else int(cache_size)
        self._cache: 'OrderedDict[bytes, Tuple[Tensor, Tensor]]' = OrderedDict()
        self._cache_encoding = None
        self.cache_hits = 0
        self._warned_categories = set()
        if not finetune:
            self.partnet.requires_grad_(False)
            self.partnet.eval()

    @property
    def map_size(self) -> int:
        return self.support_bank.map_size

    @property
    def out_channels(self) -> int:
        return self.partnet.num_parts * self.partnet.decoder.out_channels

    def train(self, mode: bool = True) -> 'ObjectPartInferencer':
        super().train(mode)
        if not self.finetune:
            self.partnet.eval()
        return self

    def drop_unsupported_objects(self, objects: Sequence[Tensor]) -> List[Tensor]:
        """The object tables without the rows whose part category has no supports.

        Such objects get no part map (zeros, like stuff) instead of the SupportBank's KeyError
        stopping a whole training run on one rare instance; a warning names each such category
        once. :class:`~mmipose.models.editors.IPOSE` calls this before its losses so that they
        see the same objects as PartNet.

        Args:
            objects (Sequence[Tensor]): B object tables (K_b, 8), data-contract rows.

        Returns:
            list[Tensor]: B int64 tables (K_b', 8), K_b' <= K_b, on the input device.
        """
        tables = [torch.as_tensor(rows).detach().long().reshape(-1, OBJECT_ROW_WIDTH) for rows in objects]
        categories = getattr(getattr(self, 'support_bank', None), 'categories', None)
        if categories is None or not any(len(t) for t in tables):
            return tables
        known = torch.as_tensor(list(categories), dtype=torch.long, device=tables[0].device)
        keep = [torch.isin(t[:, 1], known.to(t.device)) for t in tables]
        if bool(torch.cat(keep).all()):
            return tables
        unknown = set(torch.cat([t[~k, 1].cpu() for t, k in zip(tables, keep)]).tolist())
        new = unknown - self._warned_categories
        if new:
            self._warned_categories |= new
            warnings.warn(f'no supports for part category id(s) {sorted(new)} (the SupportBank '
                          f'serves {list(categories)}); those objects get no part map. Add the '
                          'category to the SupportBank to give them parts. This warning is shown '
                          'once per category.')
        return [t[k] for t, k in zip(tables, keep)]

    def _known_objects(self, objects: Sequence[Tensor]) -> List[Tuple[int, List[int]]]:
        """(b, row) pairs of objects whose category the support bank serves, in paste order."""
        tables = self.drop_unsupported_objects(objects)
        # one device -> host transfer for the whole batch
        all_rows = torch.cat([t.to(tables[0].device) for t in tables]).cpu().tolist() if tables else []
        kept = []
        start = 0
        for b, table in enumerate(tables):
            kept.extend((b, row) for row in all_rows[start:start + len(table)])
            start += len(table)
        return kept

    def crop_queries(self, inst: Tensor, crops: Sequence[ObjectCrop]) -> Tensor:
        """(N,1,64,64) binary PartNet queries of the planned crops."""
        return crop_object_masks(inst, crops, self.map_size)

    def run_partnet(self, queries: Tensor, categories: Tensor) -> Tuple[Tensor, Tensor]:
        """One (chunked) PartNet call: (N,1,64,64) queries -> features (N,288,64,64), logits (N,9,64,64)."""
        encoding = self.support_bank.encoding(self.partnet)
        index = self.support_bank.index_of(categories)
        chunk = self.chunk_size or queries.shape[0]
        outputs = [
            self.partnet(queries[i:i + chunk], index[i:i + chunk], encoding) for i in range(0, queries.shape[0], chunk)
        ]
        return torch.cat([o[0] for o in outputs]), torch.cat([o[1] for o in outputs])

    @staticmethod
    def _back_to_box(x: Tensor, crop: ObjectCrop, mode: str) -> Tensor:
        """(1,C,64,64) -> (1,C,he-hs,we-ws) through the reference's resize / slice path."""
        kwargs = dict(align_corners=False) if mode == 'bilinear' else {}
        x = F.interpolate(x, size=(crop.square, crop.square), mode=mode, **kwargs)
        top, bottom, left, right = crop.pad
        x = x[:, :, top:crop.square - bottom, left:crop.square - right]
        hs, he, ws, we = crop.box
        if crop.aspect_size is not None or x.shape[-2:] != (he - hs, we - ws):
            x = F.interpolate(x, size=(he - hs, we - ws), mode=mode, **kwargs)
        return x

    @property
    def num_cached(self) -> int:
        """Images whose outputs the cache holds."""
        return len(self._cache)

    def forward(self,
                inst: Tensor,
                objects: Sequence[Tensor],
                partnet_runner: Optional[PartNetRunner] = None) -> Tuple[Tensor, Tensor]:
        """Part features and logits at full resolution (from the cache where possible).

        Args:
            inst (Tensor): (B,1,H,W) integer instance map.
            objects (Sequence[Tensor]): B object tables (K_b, 8), data-contract rows.
            partnet_runner (callable, optional): used instead of :meth:`run_partnet` (same signature),
                e.g. an exported PartNet graph (:mod:`mmipose.deploy`); crops and pasting stay the same.

        Returns:
            tuple: part_features (B,288,H,W) and part_logits (B,9,H,W); zeros outside objects.
        """
        if not self.cache_size or (self.finetune and torch.is_grad_enabled()) or partnet_runner is not None:
            return self._infer(inst, objects, partnet_runner)
        b, _, height, width = inst.shape
        if len(objects) != b:
            raise ValueError(f'ObjectPartInferencer: got {len(objects)} object tables for a batch of {b}')
        encoding = self.support_bank.encoding(self.partnet)
        if encoding is not self._cache_encoding:
            self._cache.clear()
            self._cache_encoding = encoding
        weight = self.partnet.conv_img.weight
        inst_host = inst.detach().to('cpu', torch.int64)
        keys = [_image_key(inst_host[i], objects[i], weight) for i in range(b)]
        missing = [i for i, key in enumerate(keys) if key not in self._cache]
        if missing:
            index = torch.tensor(missing, device=inst.device)
            features, logits = self._infer(inst.index_select(0, index), [objects[i] for i in missing])
            for j, i in enumerate(missing):
                self._store(keys[i], features[j], logits[j])
        features = weight.new_zeros(b, self.out_channels, height * width)
        logits = weight.new_zeros(b, self.partnet.num_parts, height * width)
        for i, key in enumerate(keys):
            self._cache.move_to_end(key)
            pixels, values = self._cache[key]
            features[i, :, pixels] = values[:self.out_channels]
            logits[i, :, pixels] = values[self.out_channels:]
        self.cache_hits += b - len(missing)
        return features.view(b, -1, height, width), logits.view(b, -1, height, width)

    def _store(self, key: bytes, features: Tensor, logits: Tensor) -> None:
        """Keep one image's outputs: (C,H,W) maps -> the flat indices and values of non-zero pixels."""
        stacked = torch.cat([features, logits]).flatten(1)
        pixels = stacked.ne(0).any(0).nonzero()[:, 0]
        self._cache[key] = (pixels, stacked[:, pixels].clone())
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _infer(self,
               inst: Tensor,
               objects: Sequence[Tensor],
               partnet_runner: Optional[PartNetRunner] = None) -> Tuple[Tensor, Tensor]:
        """Part features and logits at full resolution (PartNet on every object).

        Args:
            inst (Tensor): (B,1,H,W) integer instance map.
            objects (Sequence[Tensor]): B object tables (K_b, 8), data-contract rows.

        Returns:
            tuple: part_features (B,288,H,W) and part_logits (B,9,H,W); zeros outside objects.
        """
        b, _, height, width = inst.shape
        if len(objects) != b:
            raise ValueError(f'ObjectPartInferencer: got {len(objects)} object tables for a batch of {b}')
        weight = self.partnet.conv_img.weight
        features = weight.new_zeros(b, self.out_channels, height, width)
        logits = weight.new_zeros(b, self.partnet.num_parts, height, width)
        kept = self._known_objects(objects)
        if not kept:
            return features, logits
        crops = [plan_object_crop(bi, row, height, width) for bi, row in kept]
        categories = torch.tensor([row[1] for _, row in kept], dtype=torch.long, device=weight.device)
        with torch.set_grad_enabled(self.finetune and torch.is_grad_enabled()):
            queries = self.crop_queries(inst.to(weight.device), crops).to(weight.dtype)
            part_features, part_logits = (partnet_runner or self.run_partnet)(queries, categories)
            for i, crop in enumerate(crops):
                hs, he, ws, we = crop.box
                m = self._back_to_box(queries[i:i + 1], crop, 'nearest')
                x_feat = self._back_to_box(part_features[i:i + 1], crop, 'bilinear')
                x_logit = self._back_to_box(part_logits[i:i + 1], crop, 'nearest')
                region = (crop.batch, slice(None), slice(hs, he), slice(ws, we))
                features[region] = features[region] * (1 - m[0]) + x_feat[0] * m[0]
                logits[region] = logits[region] * (1 - m[0]) + x_logit[0] * m[0]
        return features, logits


def _image_key(inst: Tensor, rows: Tensor, weight: Tensor) -> bytes:
    """Cache key of one image: its (1,H,W) instance map, its object rows, the output device/dtype."""
    digest = hashlib.sha1(inst.numpy().tobytes())
    digest.update(str(tuple(inst.shape)).encode())
    digest.update(torch.as_tensor(rows).detach().cpu().long().numpy().tobytes())
    digest.update(f'{weight.device}/{weight.dtype}'.encode())
    return digest.digest()
