"""Speed levers shared by sampling, the tools and the benchmark: autocast, denormals."""
import contextlib
from typing import ContextManager, Union

import torch

PRECISIONS = ('fp32', 'bf16', 'fp16')
_DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


def check_precision(precision: str, name: str = 'precision') -> str:
    """Return ``precision`` if it is one of :data:`PRECISIONS`, else raise a clear error."""
    if precision not in PRECISIONS:
        raise ValueError(f'{name} must be one of {PRECISIONS}, got {precision!r}')
    return precision


def bf16_supported(device: Union[str, torch.device]) -> bool:
    """Whether bfloat16 convolutions run natively (CPU: avx512_bf16 / AMX via oneDNN; CUDA)."""
    device = torch.device(device)
    if device.type == 'cuda':
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == 'cpu':
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def autocast(device: Union[str, torch.device], precision: str) -> ContextManager:
    """``torch.autocast`` for 'bf16' / 'fp16' on ``device``; a no-op context for 'fp32'.

    Autocast lowers convolutions and matmuls only; parameters, normalisation statistics and
    reductions stay float32. CPU autocast supports bfloat16 only.

    Args:
        device (str | torch.device): Where the model runs ('cpu', 'cuda', 'cuda:1').
        precision (str): One of :data:`PRECISIONS`.
    """
    check_precision(precision)
    if precision == 'fp32':
        return contextlib.nullcontext()
    device_type = torch.device(device).type
    if device_type == 'cpu' and precision != 'bf16':
        raise ValueError(f'CPU autocast supports only bf16, got precision={precision!r}')
    return torch.autocast(device_type, dtype=_DTYPES[precision])


def set_flush_denormal(enable: bool = True) -> bool:
    """Flush denormal floats to zero on the CPU (process-wide FTZ/DAZ); returns if it took.

    Tiny activations and gradients (below 1.2e-38, e.g. from GAN weights initialised with
    std 0.02) make x86 float units fall back to slow microcode; flushing them changes values
    only below that threshold. Call it in entry points (tools/*.py), not in library code.
    """
    return bool(torch.set_flush_denormal(enable))
