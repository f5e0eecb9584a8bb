"""PartNetModel: PartNet pretraining on the object part dataset (the authors' ``train_part_syn.py``)."""
import os
import os.path as osp
import random
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from PIL import Image
from torch import Tensor

from mmipose.registry import MODELS
from mmipose.utils.state_dict_io import make_checkpoint, map_keys, read_checkpoint

from ..channel_argmax import channel_argmax
from .inputs import NUM_PARTS, part_index_to_onehot
from .partnet import PartNet, SupportEncoding
from .support_bank import SupportBank


def splice_shot(encoding: SupportEncoding, rows: Tensor, replacement: SupportEncoding, shot: int) -> SupportEncoding:
    """Per-object support sets where shot ``shot`` of set ``rows[n]`` is replaced by set ``n`` of ``replacement``.

    Keys/values are per token and shots are concatenated shot-major along the sequence
    (``PartCrossAttention.project_supports``), so this equals encoding the spliced support maps,
    without re-encoding the unchanged shots.

    Args:
        encoding (SupportEncoding): S sets of k shots.
        rows (Tensor): (N,) long, the set of every object.
        replacement (SupportEncoding): N sets of 1 shot (e.g. each object's own ground truth).
        shot (int): index in 0..k-1 to replace.

    Returns:
        SupportEncoding: N sets of k shots.
    """
    tokens = encoding.keys[0].shape[-2] // encoding.num_shots
    start, end = shot * tokens, (shot + 1) * tokens

    def splice(full: Tensor, new: Tensor) -> Tensor:
        full = full.index_select(0, rows)
        return torch.cat([full[..., :start, :], new, full[..., end:, :]], dim=-2)

    keys = tuple(splice(k, r) for k, r in zip(encoding.keys, replacement.keys))
    values = tuple(splice(v, r) for v, r in zip(encoding.values, replacement.values))
    return SupportEncoding(keys, values, encoding.num_shots, encoding.map_size)


@MODELS.register_module()
class PartNetModel(BaseModel):
    """Trains :class:`PartNet` to predict part maps from object shapes with k supports.

    Training step (reference ``generator_partsyn.py`` / ``models_partsyn.py``):

    1. Supports per category present in the batch: with probability ``1 - p_random`` the fixed
       k-means supports of ``support_bank``, else (one draw per batch, one index set per category)
       ``random.sample(range(k) + random.sample(range(1, n), min(2k, n-1)), k)`` from the
       category's pool = fixed supports + training part maps with as many unique labels as
       support 0 (at most ``pool_size`` in all).
    2. One ``randperm(9)`` per batch permutes the part channels of the GT one-hot and of every
       support (background included); silhouettes are taken before permuting.
    3. ``syn``: PartNet with the k supports; ``rec``: the same with support ``t`` (uniform in
       0..k-2, the last never) replaced by the object's own GT.
    4. ``loss = BCE(syn) + BCE(rec) + CE(syn) + CE(rec)`` against the permuted GT, unweighted means.

    Prediction uses the fixed supports, no permutation, and returns the argmax part maps.

    Differences from the reference: the pool is read from *sorted* file lists (the reference's
    ``os.listdir`` order depends on the file system) and only for the categories in
    ``support_bank``; BCE is computed from logits (``binary_cross_entropy_with_logits``: equal to
    ``BCE(sigmoid(x))`` except where the reference's sigmoid saturates); supports are encoded once per
    batch and category, and the ``rec`` sets reuse the encoded shots (:func:`splice_shot`).

    Args:
        partnet (dict): :class:`PartNet` config.
        support_bank (dict): :class:`SupportBank` config (fixed k-means supports; its categories
            must cover every category of the data; ``category_folders`` also picks the pool folder).
        pool_root (str, optional): Part dataset root for the random-support pools
            (``<pool_root>/<folder>/train/*part.png``). None: pools = the fixed supports only.
        pool_size (int): Pool size cap (the reference keeps 101 maps).
        p_random (float): Probability of random supports in a training batch (reference 3/8).
        data_preprocessor (dict, optional): Default ``BaseDataPreprocessor`` (moves to device).
    """

    def __init__(self,
                 partnet: dict,
                 support_bank: dict,
                 pool_root: Optional[str] = None,
                 pool_size: int = 101,
                 p_random: float = 3 / 8,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.partnet: PartNet = MODELS.build(partnet)
        self.support_bank: SupportBank = MODELS.build(support_bank)
        self.num_shots = self.support_bank.num_supports
        self.p_random = float(p_random)
        self.pools = self._build_pools(pool_root, int(pool_size))

    # ------------------------------------------------------------------------------------ pools
    def _build_pools(self, pool_root: Optional[str], pool_size: int) -> Dict[int, Tensor]:
        """{category id: (n, 64, 64) long part-index maps}, the fixed supports first."""
        bank = self.support_bank
        pools = {}
        for row, category in enumerate(bank.categories):
            fixed = bank.supports[row].argmax(1)  # (k, H, W)
            maps = [fixed]
            folder = osp.join(pool_root, bank.category_folders.get(category, str(category)), 'train') \
                if pool_root else None
            if folder and osp.isdir(folder):
                wanted = len(torch.unique(fixed[0]))
                count = len(fixed)
                for name in sorted(os.listdir(folder)):
                    if count >= pool_size:
                        break
                    if not name.endswith('part.png'):
                        continue
                    with Image.open(osp.join(folder, name)) as image:
                        part = torch.from_numpy(np.array(image).astype(np.int64))
                    part = F.interpolate(part[None, None].float(), fixed.shape[-2:], mode='nearest')[0].long()
                    if len(torch.unique(part)) == wanted:
                        maps.append(part)
                        count += 1
            pools[category] = torch.cat(maps)
        return pools

    def _draw_supports(self, categories: List[int], device) -> Tensor:
        """(S, k, H, W) long part maps of the given categories for one training batch."""
        k = self.num_shots
        use_random = random.random() < self.p_random
        maps = []
        for category in categories:
            pool = self.pools[category]
            index = list(range(k))
            if use_random and len(pool) > 1:
                index += random.sample(range(1, len(pool)), min(2 * k, len(pool) - 1))
                index = random.sample(index, k)
            maps.append(pool[index])
        return torch.stack(maps).to(device)

    # ---------------------------------------------------------------------------------- forward
    def forward(self, inputs: Dict[str, Tensor], data_samples=None, mode: str = 'tensor'):
        """Args:
            inputs (dict): ``shape`` (N, 1, 64, 64) float {0,1}, ``part`` (N, 64, 64) long 0..8,
                ``category`` (N,) long part category ids (from ``PackPartInputs``).
            mode (str): ``'loss'`` -> dict of losses; ``'predict'`` -> list of N dicts with
                ``pred_parts`` (64, 64) long, ``gt_parts`` (64, 64) long, ``category`` int;
                ``'tensor'`` -> (N, 9, 64, 64) part logits with the fixed supports.
        """
        if mode == 'loss':
            return self.loss(inputs)
        logits = self.predict_logits(inputs['shape'], inputs['category'])
        if mode == 'tensor':
            return logits
        if mode == 'predict':
            pred = channel_argmax(logits)
            return [
                dict(pred_parts=p, gt_parts=g, category=int(c))
                for p, g, c in zip(pred, inputs['part'], inputs['category'].tolist())
            ]
        raise ValueError(f'PartNetModel: unknown mode {mode!r} (use loss, predict or tensor)')

    def predict_logits(self, shape: Tensor, category: Tensor) -> Tensor:
        """(N, 9, H, W) part logits of object shapes with the fixed supports of their categories."""
        rows = self.support_bank.index_of(category)
        _, logits = self.partnet(shape, rows, self.support_bank.encoding(self.partnet))
        return logits

    def loss(self, inputs: Dict[str, Tensor]) -> Dict[str, Tensor]:
        query, part, category = inputs['shape'], inputs['part'], inputs['category']
        device = query.device
        present, support_index = torch.unique(category, return_inverse=True)
        supports = self._draw_supports(present.tolist(), device)  # (S, k, H, W)
        support_shapes = (supports > 0).float().unsqueeze(2)  # before permuting (argmax > 0)
        gt_shape = (part > 0).float()[:, None, None]  # (N, 1, 1, H, W)
        perm = torch.randperm(NUM_PARTS).to(device)
        gt = part_index_to_onehot(part, NUM_PARTS)[:, perm]
        supports = part_index_to_onehot(supports, NUM_PARTS)[:, :, perm]

        encoding = self.partnet.encode_supports(supports, support_shapes)
        _, syn = self.partnet(query, support_index, encoding)
        gt_encoding = self.partnet.encode_supports(gt[:, None], gt_shape)
        if self.num_shots > 1:
            shot = random.randrange(self.num_shots - 1)
            rec_encoding = splice_shot(encoding, support_index, gt_encoding, shot)
        else:
            rec_encoding = gt_encoding
        _, rec = self.partnet(query, torch.arange(len(query), device=device), rec_encoding)

        target = channel_argmax(gt)
        return dict(
            loss_bce_syn=F.binary_cross_entropy_with_logits(syn, gt),
            loss_bce_rec=F.binary_cross_entropy_with_logits(rec, gt),
            loss_ce_syn=F.cross_entropy(syn, target),
            loss_ce_rec=F.cross_entropy(rec, target))


def export_partnet_weights(checkpoint: str, out: str) -> Dict[str, Tensor]:
    """Write the PartNet weights of a ``PartNetModel`` training checkpoint as a PartNet file.

    The output (``{'meta', 'state_dict'}`` without the ``partnet.`` prefix) loads with
    ``PartNet(checkpoint=out)``, e.g. in iPOSE configs.

    Args:
        checkpoint (str): MMEngine checkpoint of a ``PartNetModel`` run (e.g. ``best_*.pth``).
        out (str): Output path.

    Returns:
        dict: the exported state dict.
    """
    state_dict = read_checkpoint(checkpoint, 'train one with configs/partnet/*.py').get('state_dict')
    if not state_dict or not any(k.startswith('partnet.') for k in state_dict):
        raise KeyError(f'{checkpoint} has no "partnet.*" weights; is it a PartNetModel checkpoint?')
    weights = map_keys(state_dict, select_prefix='partnet.')
    torch.save(make_checkpoint(weights, dict(source=osp.abspath(checkpoint))), out)
    return weights
