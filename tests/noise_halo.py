"""Helpers for the spatial-noise locality tests (generator and inferencer)."""
import torch
import torch.nn as nn


def receptive_halo(rows: range, cols: range, num_blocks: int = 6) -> int:
    """Upper bound (pixels) of how far a noise change inside rows x cols reaches in the output.

    Block i works at scale s = 2**(num_blocks-1-i) pixels per cell and reads the noise by
    nearest sampling (pixels whose row and column are multiples of s). A block that samples the
    region changes its cells within 2 cells (SPADE's two 3x3 convs) + 2 (conv_0, conv_1) + 1
    (part modulation conv) and every finer block spreads that by 4 cells of its own scale
    (3 convs + nearest upsampling).
    """
    scales = [2**(num_blocks - 1 - i) for i in range(num_blocks)]
    halo = 0
    for i, s in enumerate(scales):
        if any(r % s == 0 for r in rows) and any(c % s == 0 for c in cols):
            halo = max(halo, 5 * s + 4 * sum(scales[i + 1:]))
    return halo


@torch.no_grad()
def calibrate_batch_norms(generator: nn.Module, *inputs) -> None:
    """Set the BN running statistics from one train-mode forward, then switch to eval.

    A freshly initialised generator in eval mode (running mean 0, var 1) saturates the tanh output,
    which would hide every noise change.
    """
    for m in generator.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = None  # cumulative average: one forward sets the batch statistics
    generator.train()
    generator(*inputs)
    generator.eval()
