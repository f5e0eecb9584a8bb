# Runtime for PartNet pretraining (a single-optimizer mmengine BaseModel, plain ValLoop + Evaluator).
# The reference trains 500 epochs with batch 6 and keeps `best_G.pth` by validation pixel accuracy
# on the basis categories.
default_scope = 'mmagic'
custom_imports = dict(imports=['mmipose'], allow_failed_imports=False)
randomness = dict(seed=42)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=10,
        by_epoch=True,
        max_keep_ckpts=3,
        save_best='PartAccuracy/basis_acc',  # the reference's best_G selection
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
log_level = 'INFO'
log_processor = dict(type='LogProcessor', window_size=100, by_epoch=True)
load_from = None
resume = False
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

# Adam lr 1e-4, betas (0, 0.999) (the reference's defaults); no EMA.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.999)))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=500, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
