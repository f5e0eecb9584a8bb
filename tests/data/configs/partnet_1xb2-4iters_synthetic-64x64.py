# Tiny PartNet pretraining run, a test fixture (not a user config) used by
# tests/test_models/test_partnet/test_partnet_model.py: a few iterations on a synthetic part dataset;
# paths are given with --cfg-options.
_base_ = ['../../../configs/partnet/partnet_1xb6-500e_parts-64x64.py']

categories = [8, 24, 26]
model = dict(
    partnet=dict(num_attention_layers=1),
    support_bank=dict(categories=categories, num_supports=2, category_folders=None, suffix='.png'),
    pool_size=8,
    p_random=0.5)
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(categories=categories, selected_categories=[24, 26]))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(categories=categories, selected_categories=categories))
test_dataloader = val_dataloader
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=4, val_interval=4)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4, by_epoch=False, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
