# Table 3, row 5 ("SPADE" part injection): the part map is concatenated with the semantic map and
# the 3D noise and injected through SPADE instead of the PSM part modulation. All losses on.
_base_ = ['../ipose/ipose_2xb2-372kiters_cityscapes-256x512.py']

model = dict(generator=dict(part_injection='spade'))
