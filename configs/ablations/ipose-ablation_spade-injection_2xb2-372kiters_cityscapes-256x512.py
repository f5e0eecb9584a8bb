# Table 3, row 5 ("SPADE" part injection): in every generator block the part modulation is replaced
# by one SPADE conditioned on the semantic map, the 3D noise and the part features concatenated
# (the reference's `SPADEConcat`, which fits the block's part-norm slot), followed by the same 3x3
# conv as PSM; the block's other SPADEs keep the semantic map alone. No part noise. All losses on.
_base_ = ['../ipose/ipose_2xb2-372kiters_cityscapes-256x512.py']

model = dict(generator=dict(part_injection='spade'))
