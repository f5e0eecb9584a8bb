"""Arg-max over the channels of a (B, C, H, W) map, the fast way on a CPU."""
from torch import Tensor


def channel_argmax(t: Tensor, keepdim: bool = False) -> Tensor:
    """``t.argmax(dim=1, keepdim=keepdim)``, computed as ``t.max(dim=1).indices``.

    Both return the first maximal index (ties included), but PyTorch's CPU ``argmax`` over a
    non-innermost dimension is much slower than ``max`` over it (docs/toy_demo.md); the label and
    part maps of a training step are reduced this way several times.

    Args:
        t (Tensor): (B, C, H, W) scores or one-hot map.
        keepdim (bool): keep the channel dimension (B, 1, H, W).

    Returns:
        Tensor: (B, H, W) or (B, 1, H, W) long channel indices.
    """
    return t.max(dim=1, keepdim=keepdim).indices
