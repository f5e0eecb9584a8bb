"""The reference's GAN weight initialisation (OASIS / iPOSE ``init_networks``)."""
import torch.nn as nn


def init_gan_weights(module: nn.Module, gain: float = 0.02) -> None:
    """Initialise one module, for ``net.apply(init_gan_weights)``.

    Conv / ConvTranspose / Linear weights: ``xavier_normal_(gain)`` (for spectral-normed convs
    the ``weight_orig`` parameter), biases: 0. Other modules are left untouched.
    """
    name = type(module).__name__
    if 'Conv' not in name and 'Linear' not in name:
        return
    weight = getattr(module, 'weight_orig', None)
    if not isinstance(weight, nn.Parameter):
        weight = getattr(module, 'weight', None)
    if isinstance(weight, nn.Parameter):
        nn.init.xavier_normal_(weight.data, gain=gain)
    if getattr(module, 'bias', None) is not None:
        nn.init.zeros_(module.bias.data)
