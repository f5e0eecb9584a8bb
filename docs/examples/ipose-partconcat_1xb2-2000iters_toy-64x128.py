# A user's own config that reuses mmipose components in a different GAN: mmipose's IPOSE training
# loop, ObjectPartInferencer (PartNet + support part maps), OASISDiscriminator and OASISLoss, with the
# user's PartConcatGenerator (part_concat_generator.py, next to this file) instead of PSMGenerator.
# Run from this folder (so `part_concat_generator` is importable) with mmipose installed:
#   PYTHONPATH=. python <mmipose>/tools/train.py ipose-partconcat_1xb2-2000iters_toy-64x128.py
# Data: the toy scenes (`from mmipose.datasets.toy import prepare_toy_data`), see README.
default_scope = 'mmagic'
custom_imports = dict(imports=['mmipose', 'part_concat_generator'], allow_failed_imports=False)

data_root = 'data/toy_scenes'
semantic_nc = 10  # ToySceneDataset classes, 0 = don't care
object_part_categories = {6: 24, 7: 26, 8: 28, 9: 101}  # label id -> part category

model = dict(
    type='IPOSE',
    num_classes=semantic_nc,
    part_inferencer=dict(
        type='ObjectPartInferencer',
        partnet=dict(type='PartNet', checkpoint=None),  # your pretrained PartNet file here
        support_bank=dict(type='SupportBank', root=data_root + '/supports', categories=[24, 26, 28, 101],
                          num_supports=3)),
    generator=dict(type='PartConcatGenerator', semantic_nc=semantic_nc, channels=32),
    discriminator=dict(type='OASISDiscriminator', semantic_nc=semantic_nc, base_channels=16,
                       use_global_head=False),
    loss_config=dict(
        nplus1_loss=dict(type='OASISLoss', contain_dontcare_label=True),
        labelmix_loss=dict(type='LabelMixLoss'),
        lambda_labelmix=5.0,
        global_gan_loss=None,
        style_loss=None))

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-4, betas=(0.0, 0.999))),
    discriminator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=8e-4, betas=(0.0, 0.999))))

train_pipeline = [
    dict(type='LoadImageChecked', key='img'),
    dict(type='LoadImageChecked', key='label', color_type='unchanged'),
    dict(type='LoadImageChecked', key='inst', color_type='unchanged'),
    dict(type='ComputeObjectBoxes', part_categories=object_part_categories),
    dict(type='CopyValues', src_keys=['img'], dst_keys=['gt_img']),
    dict(type='PackInputs', keys=['img', 'label', 'inst'], data_keys=['gt_img'], meta_keys=['objects', 'image_name']),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(type='ToySceneDataset', data_root=data_root, split='train', pipeline=train_pipeline))
train_cfg = dict(type='ResumableIterBasedTrainLoop', max_iters=2000)

randomness = dict(seed=0)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', interval=1000, by_epoch=False, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='nccl'))
log_processor = dict(type='LogProcessor', by_epoch=False)
