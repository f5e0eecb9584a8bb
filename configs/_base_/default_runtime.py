# GAN runtime for mmipose (written for this project, following the conventions of MMagic's
# `gen_default_runtime.py`): iteration-based training, MultiVal/MultiTest loops, one optimizer per
# top-level child through MultiOptimWrapperConstructor, MMSeparateDistributedDataParallel.
default_scope = 'mmagic'
custom_imports = dict(imports=['mmipose'], allow_failed_imports=False)

# The reference seeds 42 (`--seed 42`); `diff_rank_seed` gives every DDP rank its own noise stream.
randomness = dict(seed=42, diff_rank_seed=True)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # 'FID/fid' is not in MMEngine's default less-is-better key list, so configs that select the best
    # checkpoint by FID must say `rule='less'` (done in the iPOSE configs).
    # AtomicCheckpointHook = MMEngine's CheckpointHook that never leaves half-written files and
    # refuses non-finite states (mmipose.engine.hooks).
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=10000,
        by_epoch=False,
        max_keep_ckpts=20,
        less_keys=['FID/fid', 'FID-Full/fid', 'FID-Full-50k/fid'],
        greater_keys=['mIoU/mIoU', 'mIoU/aAcc'],
        save_optimizer=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # Stop on NaN/Inf losses or gradients (a GAN that diverged does not come back).
    nan_guard=dict(type='NaNGuardHook', action='stop'),
)

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

log_level = 'INFO'
log_processor = dict(type='LogProcessor', by_epoch=False)
load_from = None
resume = False

# Each trainable top-level child (generator, discriminator) gets its own DDP. The frozen PartNet
# (part_inferencer), the EMA generator and the frozen CLIP have no trainable parameters and are only
# moved to the device, so `find_unused_parameters=False` holds.
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel', broadcast_buffers=False, find_unused_parameters=False)

vis_backends = [dict(type='VisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

train_cfg = dict(type='ResumableIterBasedTrainLoop', max_iters=10000, val_begin=1, val_interval=10000)
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')
