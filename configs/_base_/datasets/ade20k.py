# ADE20K 256x256 (reference: ade20kins, 150 classes + other = 151 channels). The reference sets
# load_size 286 but resizes to 256 without a random crop; kept to match checkpoints
# (docs/reference_differences.md).
data_root = 'data/ADEChallengeData2016'
# instance class (R channel of annotations_instance, the 100-class instance list) -> part category, in
# the reference's object order (its select_categorys = [24, 26, 36, 11, 9, 18, 4, 28, 27, 20, 1, 5, 14, 2, 38, 39])
object_part_categories = {
    4: 24,
    9: 26,
    68: 36,
    6: 11,
    8: 9,
    11: 18,
    48: 4,
    50: 28,
    53: 27,
    58: 20,
    59: 1,
    64: 5,
    74: 14,
    83: 2,
    80: 38,
    65: 39
}
working_scale = (256, 256)

_load = [
    dict(type='LoadImageChecked', key='img'),
    dict(type='LoadImageChecked', key='label', color_type='unchanged'),
    dict(type='LoadImageChecked', key='inst', color_type='color', channel_order='rgb'),
    dict(type='SplitADE20KInstance', key='inst', class_key='inst_class'),
    dict(type='CheckMapSizes', keys=['img', 'label', 'inst']),  # before the resize hides it
    dict(type='CheckLabelRange', num_classes=151),
    dict(type='PILResize', keys=['img'], scale=working_scale, interpolation='bicubic'),
    dict(type='PILResize', keys=['label', 'inst', 'inst_class'], scale=working_scale, interpolation='nearest'),
]
_pack = [
    dict(type='CastMaps', keys=['label', 'inst'], dtype='int32'),  # no torch.uint16 tensors
    # aspect restoration of the object crops uses the original image size (H0, W0)
    dict(
        type='ComputeObjectBoxes',
        part_categories=object_part_categories,
        class_key='inst_class',
        original_size_key='ori_img_shape'),
    dict(type='CopyValues', src_keys=['img'], dst_keys=['gt_img']),
    dict(type='PackInputs', keys=['img', 'label', 'inst'], data_keys=['gt_img'], meta_keys=['objects', 'image_name']),
]
train_pipeline = _load + [
    dict(type='Flip', keys=['img', 'label', 'inst', 'inst_class'], flip_ratio=0.5, direction='horizontal')
] + _pack
val_pipeline = _load + _pack

train_dataloader = dict(
    batch_size=6,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(type='IPOSEADE20KDataset', data_root=data_root, split='training', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=6,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='IPOSEADE20KDataset', data_root=data_root, split='validation', pipeline=val_pipeline, test_mode=True))
test_dataloader = val_dataloader
