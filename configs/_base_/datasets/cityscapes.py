# Cityscapes 256x512 (reference: cityscapesins, label_nc 34 + don't care = 35 channels).
# Boxes are computed on the maps after the nearest resize to 256x512 and the flip (the reference
# computes them on the stored files, wrong for stock 1024x2048 gtFine).
data_root = 'data/cityscapes'
# label id -> part category (a Cityscapes object's part category is its label id; the SupportBank maps
# rider/train/motorcycle/bicycle to their support folders)
object_part_categories = {24: 24, 25: 25, 26: 26, 27: 27, 28: 28, 31: 31, 32: 32, 33: 33}
working_scale = (512, 256)  # (w, h)

_load = [
    dict(type='LoadImageChecked', key='img'),
    dict(type='LoadImageChecked', key='label', color_type='unchanged'),
    dict(type='LoadImageChecked', key='inst', color_type='unchanged'),  # 16-bit ids kept
    dict(type='CheckMapSizes', keys=['img', 'label', 'inst']),  # before the resize hides it
    dict(type='CheckLabelRange', num_classes=35),
    dict(type='PILResize', keys=['img'], scale=working_scale, interpolation='bicubic'),
    dict(type='PILResize', keys=['label', 'inst'], scale=working_scale, interpolation='nearest'),
]
_pack = [
    dict(type='CastMaps', keys=['label', 'inst'], dtype='int32'),  # no torch.uint16 tensors
    dict(type='ComputeObjectBoxes', part_categories=object_part_categories, min_instance_value=1000),
    dict(type='CopyValues', src_keys=['img'], dst_keys=['gt_img']),
    dict(type='PackInputs', keys=['img', 'label', 'inst'], data_keys=['gt_img'], meta_keys=['objects', 'image_name']),
]
train_pipeline = _load + [dict(type='Flip', keys=['img', 'label', 'inst'], flip_ratio=0.5, direction='horizontal')
                          ] + _pack
val_pipeline = _load + _pack

train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(type='IPOSECityscapesDataset', data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='IPOSECityscapesDataset', data_root=data_root, split='val', pipeline=val_pipeline, test_mode=True))
test_dataloader = val_dataloader
