# Table 3, row 2: OASIS baseline + global adversarial loss L^g_{G/D} (global D head on).
_base_ = ['../ipose/ipose_2xb2-372kiters_cityscapes-256x512.py']

model = dict(part_inferencer=None, generator=dict(part_injection='none'), loss_config=dict(style_loss=None))
