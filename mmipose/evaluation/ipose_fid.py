"""FID for iPOSE with a local StyleGAN Inception file (no download attempts)."""
import os.path as osp
import warnings
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmagic.evaluation.metrics.fid import TransFID
from scipy import linalg

from mmipose.registry import METRICS

INCEPTION_SOURCE = ('the StyleGAN2-ADA TorchScript Inception "inception-2015-12-05.pt" '
                    '(https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/'
                    'inception-2015-12-05.pt, as documented by MMagic)')


def check_inception_path(inception_path: Optional[str], metric: str) -> str:
    """Return ``inception_path`` if it is an existing local file, else raise a clear error.

    Args:
        inception_path (str, optional): Local path of the TorchScript Inception network.
        metric (str): Metric name used in the message.

    Returns:
        str: The path, unchanged.
    """
    if not inception_path or not osp.isfile(inception_path):
        raise FileNotFoundError(f'{metric}: inception_path={inception_path!r} is not an existing file. '
                                f'Download {INCEPTION_SOURCE} on a machine with network access and set '
                                '`inception_path` in the metric config to its local path.')
    return inception_path


@METRICS.register_module()
class IPOSEFID(TransFID):
    """MMagic's ``TransFID`` that loads the StyleGAN Inception only from a local file.

    Real statistics come from the val loader's ``gt_img`` (real_key) at the working
    resolution; fake features from each output's ``fake_img`` (or ``ema.fake_img`` /
    ``orig.fake_img`` per ``sample_model``). The Inception network is called as
    ``net(uint8 RGB (N,3,H,W), return_features=True) -> (N,2048)``.

    Args:
        fake_nums (int): Number of generated images; -1 = the size of the evaluated
            dataset (one sample per label map, the paper's protocol).
        inception_path (str): Local TorchScript file; a missing file raises
            ``FileNotFoundError`` naming it and where to get it (no download is attempted).
        real_key (str): Key of real images in the data batch. Defaults to ``'gt_img'``.
        **kwargs: Other ``TransFID`` arguments (``real_nums``, ``inception_pkl``,
            ``sample_model`` ...).
    """

    def __init__(self,
                 fake_nums: int,
                 inception_path: Optional[str] = None,
                 real_key: str = 'gt_img',
                 **kwargs) -> None:
        kwargs.setdefault('inception_style', 'StyleGAN')
        super().__init__(fake_nums, inception_path=inception_path, real_key=real_key, **kwargs)

    def prepare(self, module: nn.Module, dataloader) -> None:
        """Resolve ``fake_nums=-1`` to the dataset size, then build the real statistics."""
        if self.fake_nums == -1:
            self.fake_nums = len(dataloader.dataset)
        super().prepare(module, dataloader)

    def _load_inception(self, inception_style: str, inception_path: Optional[str]) -> Tuple[nn.Module, str]:
        if inception_style != 'StyleGAN':
            raise ValueError('IPOSEFID: inception_style must be "StyleGAN", '
                             f'got {inception_style!r}.')
        return load_local_inception(inception_path, 'IPOSEFID'), 'StyleGAN'


def load_local_inception(inception_path: Optional[str], metric: str) -> nn.Module:
    """Load a TorchScript Inception network from a local file, frozen and in eval mode.

    Parameters are frozen because MMagic's real-feature pass runs outside ``no_grad`` and
    calls ``.numpy()`` on the features.
    """
    net = torch.jit.load(check_inception_path(inception_path, metric), map_location='cpu')
    for param in net.parameters():
        param.requires_grad = False
    return net.eval()


def frechet_distance_from_stats(mu_a: np.ndarray,
                                cov_a: np.ndarray,
                                mu_b: np.ndarray,
                                cov_b: np.ndarray,
                                eps: float = 1e-6) -> Tuple[float, float, float]:
    """Fréchet distance of two Gaussians: ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``.

    The formula of MMagic's FID, written here because its ``_calc_fid`` unpacks
    ``scipy.linalg.sqrtm(..., disp=False)`` as a pair, which scipy 1.17 returns as a bare array for 1x1
    matrices (one feature dimension). A singular product (fewer samples than dimensions) is
    regularised with ``eps`` on the diagonals.

    Returns:
        tuple[float, float, float]: the distance, its mean term and its trace term.
    """
    with warnings.catch_warnings():  # a singular product is handled below
        warnings.simplefilter('ignore')
        root = linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(root).all():
            offset = np.eye(len(cov_a)) * eps
            root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    diff = mu_a - mu_b
    mean_term = float(diff @ diff)
    trace_term = float(np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root.real))
    return mean_term + trace_term, mean_term, trace_term


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Fréchet distance of two Gaussians fitted to feature sets (unbiased covariances).

    Like FID it is biased upwards for few samples: compare values computed from equally many samples.

    Args:
        feats_a (np.ndarray): (N, D) features.
        feats_b (np.ndarray): (M, D) features; N, M >= 2.
    """
    a, b = np.asarray(feats_a, np.float64), np.asarray(feats_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(f'frechet_distance: need two (N>=2, D) feature sets of equal D, got {a.shape} and {b.shape}')
    cov_a = np.cov(a, rowvar=False).reshape(a.shape[1], -1)
    cov_b = np.cov(b, rowvar=False).reshape(b.shape[1], -1)
    return frechet_distance_from_stats(a.mean(0), cov_a, b.mean(0), cov_b)[0]
