# iPOSE on COCO-Stuff 256x256 (paper Table 1: FID 15.7, mIoU 45.1).
# Reference run (scripts/train_coco.sh): batch 28 on 4 GPUs, 500 epochs of 118287 images
# (4224 iterations/epoch) = 2.112M iterations; here 4 GPUs x 7 images.
_base_ = [
    '../_base_/models/ipose.py',
    '../_base_/datasets/coco_stuff.py',
    '../_base_/default_runtime.py',
    '../_base_/evaluation/segmentation_coco_stuff.py',  # FID, object FID; test: + AC / mIoU
]

semantic_nc = 183  # 182 labels (raw + 1) + unlabeled 0 (don't care)
model = dict(
    num_classes=semantic_nc,
    part_inferencer=dict(support_bank=dict(categories='coco_stuff')),
    generator=dict(semantic_nc=semantic_nc),  # latent 8x8 follows from 256x256
    discriminator=dict(semantic_nc=semantic_nc),
    ema_config=dict(momentum=0.0001),  # decay 0.9999
    loss_config=dict(lambda_labelmix=10.0))

# lr_g 1e-4 (reference default = paper), lr_d 4e-4.
optim_wrapper = dict(generator=dict(optimizer=dict(lr=1e-4)), discriminator=dict(optimizer=dict(lr=4e-4)))

train_dataloader = dict(batch_size=7, num_workers=4)
val_dataloader = dict(batch_size=7)
test_dataloader = dict(batch_size=7)

train_cfg = dict(type='ResumableIterBasedTrainLoop', max_iters=2112000, val_begin=1, val_interval=5000)
default_hooks = dict(
    logger=dict(interval=100), checkpoint=dict(interval=20000, save_best='FID/fid', rule='less', max_keep_ckpts=5))
