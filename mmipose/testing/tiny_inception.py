"""A tiny TorchScript stand-in for the StyleGAN Inception (same call signature)."""
import numpy as np
import torch
from scipy import linalg
from torch import Tensor, nn


class TinyInception(nn.Module):
    """uint8 RGB (N,3,H,W) -> (N,3) features: mean and std of a fixed 1x1 conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        with torch.no_grad():
            weight = torch.tensor([[1., 0.5, 0.], [0., 1., -0.5], [0.3, 0., 1.]])
            self.conv.weight.copy_(weight[..., None, None])
            self.conv.bias.zero_()

    def forward(self, x: Tensor, return_features: bool = False) -> Tensor:
        y = self.conv(x.float() / 255.)
        return y.mean(dim=(2, 3)) + y.std(dim=(2, 3))


def save_tiny_inception(path) -> str:
    torch.jit.script(TinyInception()).save(str(path))
    return str(path)


def reference_features(rgb_uint8: np.ndarray) -> np.ndarray:
    """Independent numpy version of TinyInception for (N,3,H,W) uint8 RGB."""
    w = np.array([[1., 0.5, 0.], [0., 1., -0.5], [0.3, 0., 1.]])
    y = np.einsum('oc,nchw->nohw', w, rgb_uint8.astype(np.float64) / 255.)
    return y.mean(axis=(2, 3)) + y.std(axis=(2, 3), ddof=1)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b)**2).sum() + np.trace(cov_a + cov_b - 2 * root))
