# Table 3, row 6 ("Concat" part injection): the part features are concatenated with the input
# features of every generator block instead of the PSM part modulation. The released reference code
# has no module for this row (its norms file has SPADEConcat for the "SPADE" row only), so this
# follows the paper's description: "use part as input, and concatenate it with the input feature of
# each layer". All losses on.
_base_ = ['../ipose/ipose_2xb2-372kiters_cityscapes-256x512.py']

model = dict(generator=dict(part_injection='concat'))
