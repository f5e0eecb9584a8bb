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
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
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


def add_speed_args(parser, training: bool = False) -> None:
    """The speed flags shared by tools/train.py, tools/test.py and tools/synthesize.py.

    Sampling tools get ``--precision`` ('auto' = bf16 where it runs natively, else fp32) and
    ``--no-channels-last``; training gets ``--channels-last`` and ``--batch-d-passes`` (its
    bf16 is ``--amp``). Every tool flushes denormals on the CPU unless ``--keep-denormals``.
    """
    if training:
        parser.add_argument(
            '--channels-last', action='store_true', help='channels-last (NHWC) weights for G and D (iPOSE models)')
        parser.add_argument(
            '--batch-d-passes', action='store_true', help='one D call for the fake, real and LabelMix images (iPOSE)')
    else:
        parser.add_argument(
            '--precision',
            choices=('auto', ) + PRECISIONS,
            default='auto',
            help="sampling precision; 'auto': bf16 where the device has native "
            'bf16 (CPU avx512_bf16/AMX, CUDA), else fp32')
        parser.add_argument(
            '--no-channels-last', action='store_true', help='keep NCHW weights (channels-last is the default)')
    parser.add_argument('--keep-denormals', action='store_true', help='do not flush denormal floats to zero on the CPU')


def speed_cfg_options(args, model_cfg: dict, device: Union[str, torch.device]) -> dict:
    """``cfg.model`` overrides from :func:`add_speed_args` flags (IPOSE models only).

    Pure: the denormal flush of ``--keep-denormals`` is :func:`mmipose.utils.setup_entry_point`'s.
    """
    if str(model_cfg.get('type', '')).split('.')[-1] != 'IPOSE':
        return {}
    if hasattr(args, 'precision'):
        precision = args.precision
        if precision == 'auto':
            precision = 'bf16' if bf16_supported(device) else 'fp32'
        return {'model.sample_precision': precision, 'model.channels_last': not args.no_channels_last}
    return {'model.channels_last': bool(args.channels_last), 'model.batch_d_passes': bool(args.batch_d_passes)}
