# COCO-Stuff test evaluation: FID + object FID (fid.py) + AC / mIoU of a pretrained segmenter.
# The paper (as SPADE / OASIS) uses DeepLab-v2 (ResNet-101) trained on COCO-Stuff 164k with 182
# raw ids; the closest MMSeg model is DeepLab-v3 ResNet-101-D8 on COCO-Stuff 164k (171 used
# classes, 42.6 mIoU on real val). Not the same network, classes or weights: compare methods only
# under the same segmenter and protocol.
# Checkpoint (local file): https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/
#   deeplabv3_r101-d8_512x512_4x4_320k_coco-stuff164k/
#   deeplabv3_r101-d8_512x512_4x4_320k_coco-stuff164k_20210709_155402-3cbca14d.pth
_base_ = ['./fid.py']

segmenter_config = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb4-320k_coco-stuff164k-512x512.py'
segmenter_checkpoint = ('checkpoints/'
                        'deeplabv3_r101-d8_512x512_4x4_320k_coco-stuff164k_20210709_155402-3cbca14d.pth')
segmentation_metric = dict(
    type='SegmentationMetric',
    prefix='Seg',
    segmenter_config=segmenter_config,
    segmenter_checkpoint=segmenter_checkpoint,
    class_map='coco_stuff',  # labels raw+1 -> 171 classes; unlabeled and unused ids ignored
    eval_size=(512, 512),  # 256x256 fakes upsampled to the segmenter's training scale
    sample_model='ema')
test_evaluator = dict(
    type='Evaluator', metrics=[{{_base_.fid_metric}}, {{_base_.object_fid_metric}}, segmentation_metric])
