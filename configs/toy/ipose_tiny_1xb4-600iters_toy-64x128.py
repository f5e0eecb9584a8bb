# iPOSE on the toy street scenes (ToySceneDataset, 64x128), reduced widths so tools/demo.py trains
# it on a CPU in minutes. Same model and losses as configs/ipose/, except (toy only):
#   - generator channels_g 8 (128..8 channels instead of 1024..64), SPADE hidden 32;
#   - discriminator base_channels 16 (instead of 128);
#   - no CLIP style loss: no CLIP weights offline, and ViT-B/32 on CPU would dominate the step;
#   - EMA decay 0.95 instead of 0.9999 (a short run, see ema_config);
#   - discriminator initialised with gain 1.0 instead of 0.02 (see `discriminator`), and the
#     global adversarial terms ramped up over 200 iterations (see loss_config);
#   - PartNet at a quarter of the reference's widths, weights from the demo's own toy PartNet
#     pretraining (configs/toy/partnet_*.py),
#     supports from the toy data (k=3 per category, written by ToySceneDataset);
#   - PartNet outputs cached per scene (frozen PartNet: the same scene gives the same parts), and
#     no horizontal flip, so every training scene needs PartNet once (with flips each scene would
#     be two cache entries and the cache would rarely hit within the demo's few epochs).
_base_ = ['../_base_/models/ipose.py', '../_base_/default_runtime.py']

data_root = 'data/toy_scenes'
semantic_nc = 10  # ToySceneDataset classes, 0 = void (never drawn)
partnet_checkpoint = None  # set by the demo: PartNet weights from the toy pretraining
# label id -> part category (person 24, car 26, bus 28, tree 101), see mmipose/datasets/toy/spec.py
# (the base's `part_categories` names the SupportBank rows; this one is the dataset table)
object_part_categories = {6: 24, 7: 26, 8: 28, 9: 101}
# the toy PartNet's widths (a quarter of the reference's), as configs/toy/partnet_*.py trains it
partnet_widths = dict(encoder_channels=(8, 16, 16, 24), decoder_channels=(16, 16, 8))

model = dict(
    num_classes=semantic_nc,
    # fake, real and LabelMix images through D in one call: a faster step on a CPU (D has no
    # batch-dependent layer; see IPOSE for the spectral-norm power iterations)
    batch_d_passes=True,
    part_inferencer=dict(
        partnet=dict(type='PartNet', checkpoint=partnet_checkpoint, **partnet_widths),
        cache_size=1024,  # >= train + val scenes of the demo (400 + 64)
        support_bank=dict(
            _delete_=True,
            type='SupportBank',
            root=data_root + '/supports',
            categories=[24, 26, 28, 101],
            num_supports=3)),
    generator=dict(
        semantic_nc=semantic_nc,
        channels_g=8,
        spade_hidden_nc=32,
        partnet_feature_nc=partnet_widths['decoder_channels'][-1]),
    # init_gain 1.0 (reference 0.02): D's per-pixel output layer is its only unnormalised layer
    # besides the global head (the others are spectral-normed, so their init scale cancels). At
    # 0.02 its logits start ~0 and need hundreds of Adam steps to grow: the N+1 loss then stays
    # at chance (ln 11) and only the global head guides G, which draws the average street
    # (stripes); docs/toy_demo.md has the measurements.
    discriminator=dict(semantic_nc=semantic_nc, base_channels=16, init_gain=1.0),
    # momentum 0.05 (decay 0.95): the demo trains only a few hundred iterations; a slower EMA would
    # still hold much of the random initial weights at the end (grey samples)
    ema_config=dict(type='DeviceSafeEMA', momentum=0.05, interval=1, update_buffers=True),
    loss_config=dict(
        nplus1_loss=dict(type='OASISLoss', contain_dontcare_label=True),
        lambda_labelmix=5.0,
        # the global (image-level) terms ramp up over the first 200 iterations: the global head
        # learns within a few steps, the per-pixel head later; with full weight from step 0 the
        # global loss alone steers G towards the average street (docs/toy_demo.md)
        global_warmup_iters=200,
        style_loss=None))

# Two time-scale rates as OASIS (D 4x G): in the demo's short run equal rates gave nearly uniform
# grey images (docs/toy_demo.md).
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=2e-4, betas=(0.0, 0.999))),
    discriminator=dict(optimizer=dict(lr=8e-4, betas=(0.0, 0.999))))

train_pipeline = [
    dict(type='LoadImageChecked', key='img'),
    dict(type='LoadImageChecked', key='label', color_type='unchanged'),
    dict(type='LoadImageChecked', key='inst', color_type='unchanged'),
    dict(type='ComputeObjectBoxes', part_categories=object_part_categories),
    dict(type='CopyValues', src_keys=['img'], dst_keys=['gt_img']),
    dict(type='PackInputs', keys=['img', 'label', 'inst'], data_keys=['gt_img'], meta_keys=['objects', 'image_name']),
]
val_pipeline = [
    dict(type='LoadImageChecked', key='img'),
    dict(type='LoadImageChecked', key='label', color_type='unchanged'),
    dict(type='LoadImageChecked', key='inst', color_type='unchanged'),
    dict(type='ComputeObjectBoxes', part_categories=object_part_categories),
    dict(type='CopyValues', src_keys=['img'], dst_keys=['gt_img']),
    dict(type='PackInputs', keys=['img', 'label', 'inst'], data_keys=['gt_img'], meta_keys=['objects', 'image_name']),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(type='ToySceneDataset', data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ToySceneDataset', data_root=data_root, split='val', pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Evaluator', metrics=[])
test_evaluator = val_evaluator

max_iters = 600
train_cfg = dict(type='ResumableIterBasedTrainLoop', max_iters=max_iters, val_begin=1, val_interval=100000)
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')
# PartCacheWarmupHook: PartNet over all training scenes in batches of 16 before the first step;
# the cache then serves every step, so step times are even from the start (same total cost on CPU)
custom_hooks = [
    dict(type='PartCacheWarmupHook', batch_size=16),
    dict(type='EMABNRefreshHook', interval=400, num_batches=8)
]

# the runtime is _base_/default_runtime.py's, except: seed 0, no cudnn benchmark, a log line every 50
# iterations and one checkpoint, at the end
randomness = dict(seed=0)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
env_cfg = dict(cudnn_benchmark=False)
