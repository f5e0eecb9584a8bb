# iPOSE on Cityscapes 256x512 (paper Table 1: FID 41.3, mIoU 70.6, AC 82.2).
# Reference run (scripts/train_cityscapes.sh): batch 4 on 2 GPUs, 500 epochs of 2975 images
# (drop_last: 743 iterations/epoch) = 371.5k iterations; here 2 GPUs x 2 images, 372k iterations.
_base_ = [
    '../_base_/models/ipose.py',
    '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py',
    '../_base_/evaluation/segmentation_cityscapes.py',  # FID, object FID; test: + AC / mIoU
]

semantic_nc = 35
# model: the _base_ model config already holds the Cityscapes values (semantic_nc 35, latent 8x16,
# lr_g 4e-4, lambda_labelmix 5, EMA decay 0.999).

train_dataloader = dict(batch_size=2, num_workers=4)  # per GPU; the reference used workers 0
val_dataloader = dict(batch_size=2)
test_dataloader = dict(batch_size=2)

train_cfg = dict(type='ResumableIterBasedTrainLoop', max_iters=372000, val_begin=1, val_interval=2500)
# FID every 2500 iterations (reference freq_fid for Cityscapes); the best checkpoint is kept by
# FID (the reference selects best_* by FID on the same val set it reports: OASIS#4).
default_hooks = dict(
    logger=dict(interval=100), checkpoint=dict(interval=10000, save_best='FID/fid', rule='less', max_keep_ckpts=5))
