"""The paper's claim in miniature: iPOSE vs the OASIS baseline on the toy street scenes.

Both models are trained from configs/toy/ipose_tiny_*.py with the same widths, data, schedule
and seeds. The baseline differs **only in the part input**: ``model.part_inferencer=None`` (no
PartNet, no part map) and ``model.generator.part_injection='none'`` (no part-modulated
normalisation). Everything else is identical, the discriminator's global head and its loss
included (the Cityscapes ablation config configs/ablations/*oasis-baseline* also drops those;
here they stay so that the part input is the one difference).

Metrics per (model, seed) on the validation scenes, each synthesized once with the same fixed
noise for both models (z and the part noise z_part drawn from seed 0 per scene):

- scene mIoU / AC: the demo's toy scene segmenter on the synthesized images vs the input label
  maps (``SegmentationMetric``, as tools/demo.py);
- part accuracy: a small part segmenter (configs/toy/part-segmenter_*.py, trained here on the real
  toy train images with the ground-truth part maps as target) segments the synthesized images;
  the share of object pixels (ground-truth part > 0) whose predicted part id is right. Its score
  on the real val images is the ceiling;
- object-crop FD: Fréchet distance between features of real and synthesized object crops (boxes
  of the objects of the instance map, resized to --crop-size squares). Features: the scene
  segmenter's UNet bottleneck (deepest encoder stage), global-average pooled (128-d). Not FID
  (no Inception network offline); lower is better. For scale, the FD between real *train* and
  real *val* crops is reported too.

Outputs in --work-dir: ablation.md (the table, also printed), ablation.json (every number),
ablation.png (val scenes: label | GT parts | iPOSE | OASIS | real, first seed), and the
training folders of every stage.

Examples:
    python tools/analysis/toy_ablation.py --demo-dir work_dirs/demo        # reuse the demo's PartNet + segmenter
    python tools/analysis/toy_ablation.py --seeds 0 1 2 --iters 1000
    python tools/analysis/toy_ablation.py --quick --work-dir work_dirs/ablation-quick   # smoke run
"""
from mmipose.toy.ablation import main

if __name__ == '__main__':
    main()
