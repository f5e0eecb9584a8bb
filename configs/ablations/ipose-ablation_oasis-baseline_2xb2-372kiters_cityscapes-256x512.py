# Table 3, row 1 ("Baseline" = OASIS): no part map (no PartNet, part_injection='none'), no global
# discriminator head / loss, no CLIP style loss. Same schedule as the full Cityscapes model.
_base_ = ['../ipose/ipose_2xb2-372kiters_cityscapes-256x512.py']

model = dict(
    part_inferencer=None,
    generator=dict(part_injection='none'),
    discriminator=dict(use_global_head=False),
    loss_config=dict(global_gan_loss=None, style_loss=None))
