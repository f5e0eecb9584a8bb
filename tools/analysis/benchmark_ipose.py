"""Benchmark an IPOSE config: train-step time and peak memory, inference latency, part inference.

Measures, on synthetic Cityscapes-like scenes at the config's resolution (random weights; CLIP
random-init when its weights are absent, PartNet/supports as the config says):

* ``train``: seconds per ``train_step`` (G step + D step + EMA) and peak memory, per batch size;
* ``infer``: seconds per image of ``val_step`` (EMA generator, part inference included). The
  model is built as :class:`IPOSEInferencer` builds it: PartNet and the EMA generator only
  (``--infer-build sampling``); ``--infer-build full`` builds the whole model and frees D, CLIP
  and the training generator afterwards; ``--baseline`` keeps the whole model;
* ``parts``: seconds of ``part_inferencer(inst, objects)`` for 1, 8, 32, 128 objects per image.

Every case runs in its own subprocess so CPU peak memory (``ru_maxrss``) belongs to that case
alone; on CUDA the peak is ``torch.cuda.max_memory_allocated``.

Speed levers (``--variants``, tokens joined by ``+``): ``bf16`` / ``fp16`` autocast (training:
``CPUAutocastOptimWrapper`` on CPU, ``AmpOptimWrapper`` on CUDA; sampling: ``sample_precision``),
``cl`` channels-last weights, ``ftz`` flushed denormals, ``bd`` one D call for the fake, real and
LabelMix images. ``base`` is the **baseline**: eager, fp32, NCHW, one D pass at a time, denormals
kept, PartNet on all objects in one call (no chunking). Each variant is run alternately with the
baseline in **one** process on the same model (round robin after a warm-up), so the reported
ratios come from one machine under the same load; the step's convolution/matmul FLOPs are counted
once and printed as GFLOP/s next to a measured GEMM peak of the machine.

Example::

    python tools/analysis/benchmark_ipose.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py \\
        --batch-sizes 1 2 --train-steps 2 --out work_dirs/benchmark_ipose.json
    # ratios against the baseline, interleaved in one process
    python tools/analysis/benchmark_ipose.py configs/_base_/models/ipose.py --random-partnet \\
        --baseline --variants bf16 cl bf16+cl+ftz --cases infer --infer-iters 3
"""
from mmipose.benchmarks.ipose_speed import main

if __name__ == '__main__':
    main()
