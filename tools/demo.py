"""`make demo`: the whole iPOSE pipeline on toy street scenes, on a CPU, in minutes.

Stages (each timed and logged):
  1. data       generate (or reuse) the toy scenes, their part dataset and the supports;
  2. partnet    pretrain PartNet on the basis toy categories (bus held out as novel);
                evaluate part accuracy on basis and novel validation crops;
  3. segmenter  train a small MMSeg segmenter on the real toy images;
  4. ipose      train iPOSE (reduced widths) with tools/train.py on the toy scenes (with
                --eval-every, the segmenter scores the synthesized val scenes during training);
  5. evaluate   synthesize the validation scenes: mIoU / AC through the segmenter, FID when
                Inception weights are present, sample grids and editing pictures.

Outputs in --work-dir: metrics.json, grids/<scene>.png (label | parts | synthesized | real),
editing/*.png, stage logs and checkpoints of every stage; with --eval-every (on in the long
schedule) ipose_curve.json, the scene mIoU of the synthesized val scenes during iPOSE training.

Examples:
    python tools/demo.py --work-dir work_dirs/demo
    python tools/demo.py --work-dir work_dirs/demo-quick --quick
    python tools/demo.py --work-dir work_dirs/demo-long --schedule long
"""
from mmipose.toy.demo import main

if __name__ == '__main__':
    main()
