"""Time the authors' iPOSE code (github.com/csyxwei/iPOSE) on the scenes of benchmark_ipose.py.

The authors' code is imported at run time from a local clone (``--reference-repo``); nothing of it
is part of mmipose. It is built with the options of their Cityscapes scripts (full widths:
``--dataset_mode cityscapesins --part_nc 32 --use_coord --n_support 3``, training also
``--use_globalD``; no ``--add_vgg_loss``, i.e. no CLIP style loss) with random weights, at
256x512, on the synthetic scenes of ``benchmark_ipose.py`` (its scene builder is imported, so both
codebases see the same label maps, instance maps and object boxes). Cases, each in its own
subprocess so the peak memory (``ru_maxrss``; CUDA: ``max_memory_allocated``) is that case's:

* ``infer``: one image with ``--infer-objects`` objects as their test script runs it: model built
  with ``phase='test'`` (generator + its EMA copy), ``eval()``, ``preprocess_input`` and
  ``model(None, label, 'generate_withpart', None)`` (part inference + EMA generator);
* ``train:B``: one training iteration at batch size B as their train script runs it: G step
  (``'losses_G'``), D step (``'losses_D'``: fake, real and LabelMix D passes) with Adam, then
  ``utils.update_EMA`` (at iterations that do not trigger its every-1000-iterations BN refresh).

Results are printed and written (``--out``) in benchmark_ipose.py's JSON format, with
``codebase: 'reference'``. ``--compare`` also runs mmipose's benchmark_ipose.py workers on the
same cases (``--ours-variants``: the fp32 baseline and the default levers) alternately with the
reference, round by round, and prints the ratios (reference time / mmipose time). For the infer case it
also times the deployment variants (``--backends``, :mod:`mmipose.deploy.benchmark`): ``torch.compile``
(inductor), the exported ONNX graphs on ONNX Runtime and on OpenVINO (fp32, and bf16 where the CPU has
it), each in its own process in the same rounds; the ONNX Runtime worker also reports the FLOPs of one
synthesis and the measured fp32/bf16 GEMM peak, so the achieved GFLOP/s can be set against it.

Run-time patches of the authors' code (nothing else is changed):

* ``PartGeneratorBase.load_support_list`` reads support part maps from an absolute path of the
  authors' machine; it is replaced by synthetic k=3 64x64 part maps (ids 0..8) per category, the
  same kind as ``benchmark_ipose.py --random-partnet``;
* ``OASIS_model.__init__`` reads PartNet weights from
  ``<checkpoints_dir>/partsyn_model/models/best_G.pth``: a randomly initialised PartNet of theirs
  is saved there (a temporary directory) first, so their loading code runs unchanged;
* ``OASIS_model.load_checkpoints`` (test phase: reads the EMA generator file) is a no-op: random
  weights, as benchmark_ipose.py uses;
* ``put_on_multi_gpus`` is not called: on the CPU it sets ``model.module = model`` (a module
  containing itself, so ``model.eval()`` recurses forever); the model is called directly, and
  ``utils.update_EMA`` gets a holder with ``.module``. On CUDA the model is moved with
  ``.cuda()`` and also called directly (their single-GPU DataParallel only forwards).

Example (the reference clone in ../iPOSE)::

    python tools/analysis/benchmark_reference.py --reference-repo ../iPOSE --threads 2 \\
        --cases infer train --batch-sizes 1 2 --iters 3 --warmup 1 --compare
"""
from mmipose.benchmarks.reference_speed import main

if __name__ == '__main__':
    main()
