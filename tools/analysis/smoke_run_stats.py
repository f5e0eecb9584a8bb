"""Smoke-train a shipped config on tiny generated data and report EMA movement, memory and step time.

The run is ``tools/train.py``'s (same config building, ``--amp`` included) on tiny data in the
dataset's real on-disk format, written by the test fixtures (``tests/config_runs.py``), with small
widths and no validation. It prints one JSON object:

* ``ema_from_init``: L2 distance of ``generator_ema`` from its weights before the first iteration
  (0 means the EMA never updated, e.g. after a device move);
* ``ema_from_generator``: L2 distance of ``generator_ema`` from the trained generator;
* ``generator_from_init``: L2 distance of the generator from its initial weights;
* ``step_time_first_s`` / ``step_time_median_s``: seconds of the first and the median of the
  other training iterations (CUDA synchronised);
* ``peak_gpu_memory_mb`` (CUDA: ``torch.cuda.max_memory_allocated``) and ``peak_rss_mb`` (process).

It also saves ``ema_init.pth`` (the EMA generator's initial state dict) next to the checkpoints, so
the distances can be recomputed from the files. ``tools/analysis/check_gpu_run.sh`` runs it on CUDA
with and without AMP; on a CPU it runs as well (``--device cpu``).

Example::

    python tools/analysis/smoke_run_stats.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py \\
        --work-dir work_dirs/smoke --device cuda --amp --iters 5
"""
from mmipose.testing.smoke_run_stats import main

if __name__ == '__main__':
    main()
