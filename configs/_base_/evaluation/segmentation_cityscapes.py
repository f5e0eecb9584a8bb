# Cityscapes test evaluation: FID + object FID (fid.py) + AC / mIoU of a pretrained segmenter.
# The paper (as SPADE / OASIS) uses DRN-D-105, which MMSeg does not ship; the closest MMSeg model
# is FCN with a dilated ResNet-101 (output stride 8, a plain conv head, 75.1 mIoU on real
# Cityscapes val at 512x1024 crops). Its numbers are NOT comparable with DRN-D-105 numbers in
# papers: compare methods only under the same segmenter and protocol.
# Checkpoint (local file): https://download.openmmlab.com/mmsegmentation/v0.5/fcn/
#   fcn_r101-d8_512x1024_80k_cityscapes/fcn_r101-d8_512x1024_80k_cityscapes_20200606_113038-3fb937eb.pth
_base_ = ['./fid.py']

segmenter_config = 'mmseg::fcn/fcn_r101-d8_4xb2-80k_cityscapes-512x1024.py'
segmenter_checkpoint = 'checkpoints/fcn_r101-d8_512x1024_80k_cityscapes_20200606_113038-3fb937eb.pth'
segmentation_metric = dict(
    type='SegmentationMetric',
    prefix='Seg',
    segmenter_config=segmenter_config,
    segmenter_checkpoint=segmenter_checkpoint,
    class_map='cityscapes',  # 35 label ids -> 19 train ids, void -> ignored
    # SPADE's protocol: 256x512 fakes upsampled to the segmenter's 1024x2048; logits resized back
    # to the 256x512 labels. eval_size=None evaluates at 256x512 (OASIS maintainer's protocol).
    eval_size=(1024, 2048),
    sample_model='ema')
# val (every val_interval during training) stays FID + object FID; test adds AC / mIoU.
test_evaluator = dict(
    type='Evaluator', metrics=[{{_base_.fid_metric}}, {{_base_.object_fid_metric}}, segmentation_metric])
