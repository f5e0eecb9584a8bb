# Table 3, row 6 ("Concat" part injection): the part map is concatenated with the input features
# of every generator layer instead of the PSM part modulation. All losses on.
_base_ = ['../ipose/ipose_2xb2-372kiters_cityscapes-256x512.py']

model = dict(generator=dict(part_injection='concat'))
