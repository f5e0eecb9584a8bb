# COCO-Stuff 256x256 (reference: cocoins, raw+1 labels with 255 -> 0 don't care, 183 channels).
# Instance maps: 16-bit PNGs with ids category_id*256+k under <data_root>/instance_maps/<split>,
# written by tools/dataset_converters/coco_instances.py from COCO's instances_<split>.json (ids
# are >= 257, so they never collide with label values; category*1000 would not fit 16 bits).
data_root = 'data/coco'
# COCO category id (= instance id // 256) -> part category, in the reference's order
object_part_categories = {
    1: 24,
    2: 2,
    3: 26,
    4: 14,
    5: 1,
    6: 28,
    7: 19,
    8: 27,
    9: 4,
    13: 37,
    16: 3,
    17: 8,
    18: 12,
    19: 13,
    20: 17,
    21: 10,
    44: 5,
    62: 9,
    72: 20,
    78: 38,
    24: 40
}
working_scale = (256, 256)

_load = [
    dict(type='LoadImageChecked', key='img'),
    dict(type='LoadImageChecked', key='label', color_type='unchanged'),
    dict(type='LoadImageChecked', key='inst', color_type='unchanged'),
    dict(type='CheckMapSizes', keys=['img', 'label', 'inst']),  # before the resize hides it
    dict(type='CheckLabelRange', num_classes=182, ignore_values=[255]),  # raw ids, 255 unlabeled
    dict(type='ShiftLabel', key='label', offset=1, ignore_value=255, ignore_to=0),
    dict(type='InstanceClassFromId', key='inst', class_key='inst_class', divisor=256),
    dict(type='PILResize', keys=['img'], scale=working_scale, interpolation='bicubic'),
    dict(type='PILResize', keys=['label', 'inst', 'inst_class'], scale=working_scale, interpolation='nearest'),
]
_pack = [
    dict(type='CastMaps', keys=['label', 'inst'], dtype='int32'),  # no torch.uint16 tensors
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
    batch_size=7,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(type='IPOSECocoStuffDataset', data_root=data_root, split='train2017', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=7,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='IPOSECocoStuffDataset', data_root=data_root, split='val2017', pipeline=val_pipeline, test_mode=True))
test_dataloader = val_dataloader
