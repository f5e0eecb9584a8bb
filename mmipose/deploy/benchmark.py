"""Time one synthesis (PartNet on every object + the generator) with a deployment backend.

Used by ``tools/analysis/benchmark_reference.py --compare`` (one process per variant, rounds interleaved
with the authors' code and the eager variants). Variants:

* ``compile``: eager model with ``torch.compile`` (inductor) on the generator and PartNet, fp32;
* ``onnxruntime``: the exported fp32 graphs on ONNX Runtime (CPU, or its CUDA provider with device 'cuda');
* ``openvino`` / ``openvino-bf16``: the exported graphs on OpenVINO, generator in fp32 / bf16 (native bf16 only).

The model is the one the eager benchmark builds (a config's model with a random PartNet and random k=3
supports per category). Its generator's BN statistics are first set from one train-mode forward (a random
generator in eval mode grows its activations to ~1e32, where fp32 rounding flips the tanh's sign and the
export parity check would be meaningless); all variants of a run use the same model.
"""
import statistics
import tempfile
import time
from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

VARIANTS = ('compile', 'onnxruntime', 'openvino', 'openvino-bf16')


def build_random_model(config: str, seed: int = 0) -> nn.Module:
    """The config's sampling model with a random PartNet and random supports, BN statistics calibrated."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmipose  # noqa: F401
    from mmipose.apis.model_loading import build_sampling_model
    from mmipose.models.partnet.reference_tables import NAMED_CATEGORIES
    cfg = Config.fromfile(config)
    bank = cfg.model.part_inferencer.support_bank
    categories = bank.categories
    if isinstance(categories, str):
        categories = NAMED_CATEGORIES[categories]
    rng = np.random.default_rng(0)
    maps = {int(c): rng.integers(0, 9, (bank.get('num_supports', 3), 64, 64)) for c in categories}
    bank.update(root=None, categories=list(maps), maps=maps)
    cfg.model.part_inferencer.partnet.checkpoint = None
    cfg.setdefault('object_part_categories', {26: 26})
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    torch.manual_seed(seed)
    model = build_sampling_model(cfg, 'auto').eval()
    model.cfg = cfg
    calibrate_norms(model)
    return model


def calibrate_norms(model: nn.Module, size: Tuple[int, int] = (64, 128)) -> None:
    """Set the sampled generator's BN running statistics from one train-mode forward on a parity scene."""
    from .onnx_export import _eager_scene, sampled_generator
    generator = sampled_generator(model)
    parts = {int(k): int(v) for k, v in model.cfg.object_part_categories.items()}
    inputs = _eager_scene(model, parts, size, seed=5)['generator_inputs']
    for m in generator.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = None  # cumulative average: one forward sets the batch statistics
    generator.train()
    with torch.no_grad():
        generator(*inputs[:3], z=inputs[3], z_part=inputs[4])
    generator.eval()


def make_inferencer(model: nn.Module,
                    variant: str,
                    size: Tuple[int, int],
                    device: str = 'cpu',
                    deploy_dir: Optional[str] = None):
    """An IPOSEInferencer running ``variant`` (exports the graphs, parity checked at ``size``, when needed)."""
    from mmipose.apis import IPOSEInferencer

    from .onnx_export import export_sampling_graphs
    if variant not in VARIANTS:
        raise ValueError(f'benchmark variant must be one of {VARIANTS}, got {variant!r}')
    parts = {int(k): int(v) for k, v in model.cfg.object_part_categories.items()}
    if variant == 'compile':
        model.generator_ema.module = torch.compile(model.generator_ema.module)
        model.part_inferencer.partnet = torch.compile(model.part_inferencer.partnet)
        return IPOSEInferencer(model, part_categories=parts, precision='fp32', channels_last=False, backend='pytorch')
    backend, _, precision = variant.partition('-')
    if deploy_dir is None:
        deploy_dir = tempfile.mkdtemp(prefix='mmipose_bench_onnx_')
        export_sampling_graphs(model, deploy_dir, parts, size, parity_backends=['onnxruntime'], check_double_size=False)
    return IPOSEInferencer(
        model,
        part_categories=parts,
        backend=backend,
        precision=precision or 'fp32',
        device=device,
        deploy_dir=deploy_dir)


def time_variant(model: nn.Module,
                 variant: str,
                 label: np.ndarray,
                 inst: np.ndarray,
                 objects: np.ndarray,
                 iters: int = 3,
                 warmup: int = 1,
                 device: str = 'cpu') -> Dict[str, float]:
    """Median / min seconds of one synthesis of the scene with ``variant`` (objects already computed).

    Args:
        model (nn.Module): from :func:`build_random_model`.
        variant (str): one of :data:`VARIANTS`.
        label (np.ndarray): (H, W) int64 label map; inst (H, W) instance map; objects (K, 8) object table.

    Returns:
        dict: ``median_s``, ``min_s``, ``runs``, ``setup_s`` (export / compilation), and
        ``max_abs_vs_eager_fp32`` of the image in [-1, 1] units (uint8 / 127.5).
    """
    from mmipose.apis import IPOSEInferencer
    size = tuple(label.shape)
    reference = IPOSEInferencer(model, precision='fp32', channels_last=False, backend='pytorch')
    z, z_part = reference.sample_noise(*size, seed=0)
    expected, _ = reference._generate(label, inst, objects, z, z_part)
    start = time.perf_counter()
    inferencer = make_inferencer(model, variant, size, device)
    setup = time.perf_counter() - start

    def run():
        return inferencer._generate(label, inst, objects, z, z_part)

    for _ in range(warmup):
        run()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        image, _ = run()
        times.append(time.perf_counter() - start)
    diff = np.abs(image.astype(np.int64) - expected.astype(np.int64)).max() / 127.5
    return dict(
        median_s=statistics.median(times),
        min_s=min(times),
        runs=len(times),
        setup_s=setup,
        max_abs_vs_eager_fp32=float(diff))


def sampling_flops(model: nn.Module, label: np.ndarray, inst: np.ndarray, objects: np.ndarray) -> int:
    """Convolution / matmul FLOPs of one eager synthesis (torch's FlopCounterMode)."""
    from torch.utils.flop_counter import FlopCounterMode

    from mmipose.apis import IPOSEInferencer
    inferencer = IPOSEInferencer(model, precision='fp32', channels_last=False, backend='pytorch')
    z, z_part = inferencer.sample_noise(*label.shape, seed=0)
    counter = FlopCounterMode(display=False)
    with counter:
        inferencer._generate(label, inst, objects, z, z_part)
    return int(counter.get_total_flops())


def gemm_peak_gflops(dtype: torch.dtype = torch.float32, seconds: float = 1.0, n: int = 2048) -> float:
    """Measured CPU GEMM throughput (n^3 matmuls) in GFLOP/s: the practical peak of this machine."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        runs += 1
    return 2 * n**3 * runs / (time.perf_counter() - start) / 1e9
