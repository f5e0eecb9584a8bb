# ADE20K test evaluation: FID + object FID (fid.py) + AC / mIoU of a pretrained segmenter.
# The paper (as SPADE / OASIS) uses the CSAIL UperNet-101; the closest MMSeg model is UperNet with a
# ResNet-101 backbone (43.8 mIoU on real ADE20K val, single scale). Not the same network or
# weights: compare methods only under the same segmenter and protocol.
# Checkpoint (local file): https://download.openmmlab.com/mmsegmentation/v0.5/upernet/
#   upernet_r101_512x512_160k_ade20k/upernet_r101_512x512_160k_ade20k_20200615_161951-91b32684.pth
_base_ = ['./fid.py']

segmenter_config = 'mmseg::upernet/upernet_r101_4xb4-160k_ade20k-512x512.py'
segmenter_checkpoint = 'checkpoints/upernet_r101_512x512_160k_ade20k_20200615_161951-91b32684.pth'
segmentation_metric = dict(
    type='SegmentationMetric',
    prefix='Seg',
    segmenter_config=segmenter_config,
    segmenter_checkpoint=segmenter_checkpoint,
    class_map='ade20k',  # reduce zero label: 0 (other) ignored, 1..150 -> 0..149
    eval_size=(512, 512),  # 256x256 fakes upsampled to the segmenter's training scale
    sample_model='ema')
test_evaluator = dict(
    type='Evaluator', metrics=[{{_base_.fid_metric}}, {{_base_.object_fid_metric}}, segmentation_metric])
