# iPOSE on ADE20K 256x256 (paper Table 1: FID 26.9, mIoU 53.8).
# Reference run (scripts/train_ade20k.sh): batch 24 on 4 GPUs, 500 epochs of 20210 images
# (842 iterations/epoch) = 421k iterations; here 4 GPUs x 6 images.
_base_ = [
    '../_base_/models/ipose.py',
    '../_base_/datasets/ade20k.py',
    '../_base_/default_runtime.py',
    '../_base_/evaluation/segmentation_ade20k.py',  # FID, object FID; test: + AC / mIoU
]

semantic_nc = 151  # 150 classes + "other" 0 (don't care)
model = dict(
    num_classes=semantic_nc,
    part_inferencer=dict(support_bank=dict(categories='ade20k')),
    generator=dict(semantic_nc=semantic_nc),  # latent 8x8 follows from 256x256
    discriminator=dict(semantic_nc=semantic_nc),
    ema_config=dict(momentum=0.0001),  # decay 0.9999 (reference config.py for ADE20K/COCO)
    loss_config=dict(lambda_labelmix=10.0))  # 10 for ADE20K (reference; = paper)

# lr_g 2e-4: the reference's ADE20K script (the paper states 1e-4); lr_d 4e-4.
optim_wrapper = dict(generator=dict(optimizer=dict(lr=2e-4)), discriminator=dict(optimizer=dict(lr=4e-4)))

train_dataloader = dict(batch_size=6, num_workers=4)
val_dataloader = dict(batch_size=6)
test_dataloader = dict(batch_size=6)

train_cfg = dict(type='ResumableIterBasedTrainLoop', max_iters=421000, val_begin=1, val_interval=5000)
default_hooks = dict(
    logger=dict(interval=100), checkpoint=dict(interval=20000, save_best='FID/fid', rule='less', max_keep_ckpts=5))
