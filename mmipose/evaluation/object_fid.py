"""Object FID: FID between object crops of generated and real validation images."""
import warnings
from typing import List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from mmipose.datasets.object_boxes import OBJECT_ROW_WIDTH
from mmipose.models.losses.clip_style_loss import crop_objects
from mmipose.registry import METRICS
from mmipose.utils.sample_fields import sample_field

from .ipose_fid import frechet_distance_from_stats, load_local_inception
from .loader_metric import LoaderMetric


def _as_image(value, name: str) -> Tensor:
    """Return a (3,H,W) float tensor from a tensor / numpy image field."""
    if value is None:
        raise KeyError(f'ObjectFID: output has no {name!r}; expected a (3,H,W) BGR [0,255] image.')
    img = torch.as_tensor(np.asarray(value) if not isinstance(value, Tensor) else value)
    if img.dim() != 3 or img.shape[0] != 3:
        raise ValueError(f'ObjectFID: {name!r} must be (3,H,W), got {tuple(img.shape)}.')
    return img.float()


@METRICS.register_module()
class ObjectFID(LoaderMetric):
    """FID over object crops, real and fake crops both collected during the val pass.

    Every object row ``[inst, cat, hs, he, ws, we, H0, W0]`` of ``metainfo['objects']`` is
    cropped from the generated image and from ``gt_img`` with the same rule as the CLIP style
    loss (:func:`crop_objects`: raw box, aspect restored, zero-padded square, nearest-resized
    to ``crop_size``), and both crops are fed to the StyleGAN Inception as uint8 RGB.

    Args:
        inception_path (str): Local TorchScript Inception file (see ``IPOSEFID``).
        sample_model (str): 'ema' or 'orig'; picks ``ema.fake_img`` / ``orig.fake_img`` when the
            outputs carry both. Defaults to 'ema'.
        crop_size (int): Crop side. Defaults to 128 (the paper's object crops).
        collect_device (str): 'cpu' or 'gpu'.
        prefix (str, optional): Metric prefix.
    """
    default_prefix = 'ObjectFID'

    def __init__(self,
                 inception_path: Optional[str] = None,
                 sample_model: str = 'ema',
                 crop_size: int = 128,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.inception = load_local_inception(inception_path, 'ObjectFID')
        self.sample_model = sample_model
        self.crop_size = crop_size

    def metric_network(self):
        return self.inception

    @torch.no_grad()
    def forward_inception(self, bgr: Tensor) -> Tensor:
        """(N,3,h,w) BGR [0,255] -> (N,D) Inception features on the CPU."""
        device = next(iter(self.inception.parameters()), bgr).device
        rgb = bgr[:, [2, 1, 0]].round().clamp(0, 255).to(device=device, dtype=torch.uint8)
        return self.inception(rgb, return_features=True).float().cpu()

    def _fake_image(self, sample) -> Tensor:
        branch = sample_field(sample, self.sample_model)
        if branch is not None and sample_field(branch, 'fake_img') is not None:
            return _as_image(sample_field(branch, 'fake_img'), f'{self.sample_model}.fake_img')
        return _as_image(sample_field(sample, 'fake_img'), 'fake_img')

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        """Crop every object of every output and store (fake, real) Inception features."""
        for sample in data_samples:
            objects = sample_field(sample, 'objects')
            if objects is None:
                raise KeyError('ObjectFID: output metainfo has no "objects" (K,8); pack it with '
                               "meta_keys=['objects', ...].")
            objects = torch.as_tensor(np.asarray(objects), dtype=torch.long).reshape(-1, OBJECT_ROW_WIDTH)
            keep = (objects[:, 3] > objects[:, 2]) & (objects[:, 5] > objects[:, 4])
            picks = [(0, int(r)) for r in torch.nonzero(keep).flatten()]
            if not picks:  # keep one entry per image so distributed collection stays aligned
                self.results.append(None)
                continue
            fake = self._fake_image(sample)[None]
            real = _as_image(sample_field(sample, 'gt_img'), 'gt_img')[None].to(fake.device)
            fake_crops, real_crops = crop_objects([fake, real], [objects], picks, self.crop_size)
            self.results.append((self.forward_inception(fake_crops), self.forward_inception(real_crops)))

    def compute_metrics(self, results: List[tuple]) -> dict:
        """Frechet distance between fake-crop and real-crop feature statistics.

        With fewer than 2 objects in the whole set (no covariance) the FID is NaN, with a
        warning, so the other metrics of the same pass are still reported.
        """
        results = [r for r in results if r is not None]
        num_objects = sum(len(r[0]) for r in results)
        if num_objects < 2:
            warnings.warn(f'ObjectFID: {num_objects} object(s) in the evaluated set; at least 2 '
                          'are needed for a covariance, reporting fid=nan')
            return {'fid': float('nan'), 'num_objects': num_objects}
        fake = torch.cat([r[0] for r in results]).double().numpy()
        real = torch.cat([r[1] for r in results]).double().numpy()
        fid, mean, cov = frechet_distance_from_stats(
            fake.mean(0),
            np.cov(fake, rowvar=False).reshape(len(fake[0]), -1), real.mean(0),
            np.cov(real, rowvar=False).reshape(len(real[0]), -1))
        return {'fid': fid, 'mean': mean, 'cov': cov, 'num_objects': num_objects}
