"""PartNet input construction: the only place that builds the 5/6-channel rows of the reference.

PartNet sees every object once per part channel ``p`` (9 rows per
object, row = ``n * 9 + p``):

* query row   ``[x, y, mask, mask, mask]``                 (identical for all 9 parts),
* support row ``[x, y, shape, shape, shape, S_j[p]]`` for every shot ``j``: the first 5 channels go to
  the shape encoder, the last one (the p-th part mask of support ``j``) to the mask encoder.

``x = linspace(-1, 1, W)`` varies along the width and ``y = linspace(-1, 1, H)`` along the height.
Because the query row does not depend on ``p`` and the support shape row depends only on the shot,
the helpers here return them *once* (no 9x repetition); :class:`PartNet` broadcasts instead.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

#: Part channels of PartNet; index 0 is the background.
NUM_PARTS = 9


def coordinate_channels(height: int, width: int, device=None, dtype=torch.float32) -> Tensor:
    """The two coordinate channels ``[x, y]``.

    Returns:
        Tensor: (2, H, W); channel 0 = x (linspace(-1, 1, W) along the width), channel 1 = y.
    """
    ys = torch.linspace(-1, 1, height, device=device, dtype=dtype)
    xs = torch.linspace(-1, 1, width, device=device, dtype=dtype)
    return torch.stack([xs.expand(height, width), ys[:, None].expand(height, width)])


def _with_coords(channels: Tensor) -> Tensor:
    """Prepend ``[x, y]`` to ``channels`` (..., C, H, W) -> (..., 2 + C, H, W)."""
    height, width = channels.shape[-2:]
    coords = coordinate_channels(height, width, channels.device, channels.dtype)
    coords = coords.expand(*channels.shape[:-3], 2, height, width)
    return torch.cat([coords, channels], dim=-3)


def build_query_rows(query: Tensor) -> Tensor:
    """Shape-encoder input of the query objects.

    Args:
        query (Tensor): (N, 1, H, W) binary object masks (float, {0, 1}).

    Returns:
        Tensor: (N, 5, H, W) rows ``[x, y, mask, mask, mask]``.
    """
    if query.dim() != 4 or query.shape[1] != 1:
        raise ValueError(f'PartNet query must be (N, 1, H, W) object masks, got shape {tuple(query.shape)}')
    return _with_coords(query.expand(-1, 3, -1, -1))


def support_shapes(support_maps: Tensor) -> Tensor:
    """Object silhouette of one-hot support part maps: ``argmax over parts > 0`` (as the reference).

    Args:
        support_maps (Tensor): (..., P, H, W) one-hot part maps (channel 0 = background).

    Returns:
        Tensor: (..., 1, H, W) float {0, 1}, no gradient (the reference detaches it).
    """
    return (support_maps.detach().argmax(dim=-3, keepdim=True) > 0).to(support_maps.dtype)


def build_support_rows(support_maps: Tensor, shapes: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """Shape- and mask-encoder inputs of the supports.

    Args:
        support_maps (Tensor): (S, k, P, H, W) one-hot part maps (S support sets, k shots).
        shapes (Tensor, optional): (S, k, 1, H, W) silhouettes. Defaults to
            :func:`support_shapes` of ``support_maps``. Pass them explicitly when the part channels
            were permuted (the reference's training augmentation computes the silhouette *before*
            permuting, so it stays the object shape).

    Returns:
        tuple[Tensor, Tensor]: ``shape_rows`` (S, k, 5, H, W) = ``[x, y, shape, shape, shape]``
        (one per shot, shared by all parts) and ``mask_rows`` (S, k, P, 1, H, W) = ``S_j[p]``.
    """
    if support_maps.dim() != 5:
        raise ValueError('support maps must be (S, k, num_parts, H, W) one-hot part maps, '
                         f'got shape {tuple(support_maps.shape)}')
    if shapes is None:
        shapes = support_shapes(support_maps)
    elif shapes.shape != support_maps.shape[:2] + (1, ) + support_maps.shape[-2:]:
        raise ValueError(f'support shapes must be (S, k, 1, H, W) = '
                         f'{tuple(support_maps.shape[:2]) + (1, ) + tuple(support_maps.shape[-2:])}, '
                         f'got {tuple(shapes.shape)}')
    shape_rows = _with_coords(shapes.to(support_maps.dtype).expand(-1, -1, 3, -1, -1))
    return shape_rows, support_maps.unsqueeze(3)


def part_index_to_onehot(part_index: Tensor, num_parts: int = NUM_PARTS, dtype=torch.float32) -> Tensor:
    """One-hot encode part-index maps.

    Args:
        part_index (Tensor): (..., H, W) integer part indices in ``[0, num_parts)``.

    Returns:
        Tensor: (..., num_parts, H, W) one-hot.
    """
    index = part_index.long().unsqueeze(-3)
    onehot = torch.zeros(
        *part_index.shape[:-2], num_parts, *part_index.shape[-2:], dtype=dtype, device=part_index.device)
    return onehot.scatter_(-3, index, 1.0)
