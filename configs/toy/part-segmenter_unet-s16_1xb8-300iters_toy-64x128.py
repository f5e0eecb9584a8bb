# A small MMSeg *part* segmenter trained on the real toy images (tools/analysis/toy_ablation.py).
# The same UNet and recipe as the scene segmenter, but the target is the ground-truth part map
# (scenes/<split>/parts/*.png): it measures whether the objects of a synthesized image show the
# parts of the object they were generated for. Part ids are those of PartNet's 9 part channels
# (0 = no object / background, 1..8 = the part of the object's category, e.g. car 2 = wheel;
# the toy categories use 1..5). 300 iterations like the demo's scene segmenter.
_base_ = ['./segmenter_unet-s16_1xb8-300iters_toy-64x128.py']

num_part_classes = 9
part_classes = ('no object', 'part 1', 'part 2', 'part 3', 'part 4', 'part 5', 'part 6', 'part 7', 'part 8')
max_iters = 300

model = dict(decode_head=dict(num_classes=num_part_classes))


def _parts_split(split):
    return dict(
        metainfo=dict(classes=part_classes),
        data_prefix=dict(img_path=f'scenes/{split}/images', seg_map_path=f'scenes/{split}/parts'))


train_dataloader = dict(dataset=_parts_split('train'))
val_dataloader = dict(dataset=_parts_split('val'))
test_dataloader = val_dataloader
# aAcc counts the background too; the ablation reports the accuracy on object pixels itself
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

param_scheduler = [dict(type='PolyLR', eta_min=1e-5, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(type='mmagic.ResumableIterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1))
