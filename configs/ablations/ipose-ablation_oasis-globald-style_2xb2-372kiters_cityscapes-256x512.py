# Table 3, row 3: OASIS baseline + global adversarial loss + object-level CLIP style loss.
# (Row 4, "Ours PSM", is configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py.)
_base_ = ['../ipose/ipose_2xb2-372kiters_cityscapes-256x512.py']

model = dict(part_inferencer=None, generator=dict(part_injection='none'))
