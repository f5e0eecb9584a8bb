# PartNet pretraining as in the paper (Sec. 4.1, reference train_parts.sh): 20 basis categories of
# the Cityscapes/PASCAL-Panoptic-Parts object part dataset, cat (8) held out as novel, k = 3
# k-means supports, batch 6, Adam 1e-4 (0, 0.999), 500 epochs, best checkpoint by basis accuracy.
# Data: python tools/build_part_dataset.py --cityscapes ... --pascal ... --out data/Full_Parts
#       python tools/select_supports.py data/Full_Parts data/Full_Parts/support_shape/3 --k 3
_base_ = ['../_base_/datasets/part_dataset.py', '../_base_/partnet_runtime.py']

data_root = 'data/Full_Parts'
support_root = data_root + '/support_shape/3'  # select_supports.py output; --cfg-options model.support_bank.root=...

model = dict(
    type='PartNetModel',
    partnet=dict(type='PartNet', num_attention_layers=3, num_heads=1),
    support_bank=dict(
        type='SupportBank',
        root=support_root,
        categories={{_base_.part_categories}},
        num_supports=3,
        # VOC bus/car/person and rider use the Cityscapes supports and pools (reference mapping_dict)
        category_folders='reference_training',
        suffix='part.png'),
    pool_root=data_root,
    pool_size=101,
    p_random=3 / 8)

train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
