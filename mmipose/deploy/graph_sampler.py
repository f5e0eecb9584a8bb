"""The two network calls of iPOSE sampling (PartNet, generator) served by exported ONNX graphs.

:class:`GraphSampler` is what :class:`~mmipose.apis.IPOSEInferencer` swaps in for a graph backend:
everything around the networks (object boxes, crops, pasting the parts back, the noise and its
region edits, part editing through the support bank) stays the inferencer's own code.

The inferencer also encodes the supports with its PyTorch PartNet (once per support set): the value
tokens of a part channel that a support map lacks come out of instance norms of a constant map,
i.e. amplified float rounding, and the support-encoder graph rounds differently
(:func:`~mmipose.deploy.onnx_export.defined_value_tokens`). With the host encoding every backend
gives the eager model's part maps; the support-encoder graph serves deployments without PyTorch.
"""
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from mmipose.models.partnet.partnet import SupportEncoding

from .onnx_backends import GraphRunner
from .onnx_export import read_manifest


class GraphSampler:
    """Run the exported support encoder, PartNet and generator graphs of one export folder.

    Args:
        deploy_dir (str): folder written by :func:`~mmipose.deploy.onnx_export.export_sampling_graphs`.
        backend (str): 'onnxruntime' or 'openvino'.
        precision (str): 'fp32', or 'bf16' (OpenVINO, CPUs with native bf16).
        device (str): 'cpu' or 'cuda' (ONNX Runtime's CUDA provider).
        threads (int, optional): intra-op threads of the backends (default: torch's).
    """

    def __init__(self,
                 deploy_dir: str,
                 backend: str,
                 precision: str = 'fp32',
                 device: str = 'cpu',
                 threads: Optional[int] = None) -> None:
        self.manifest = read_manifest(deploy_dir)
        self.backend, self.precision, self.device = backend, precision, device
        files = self.manifest['files']
        # PartNet stays fp32 with every backend: part ids are an argmax of close logits
        self.support_encoder = GraphRunner(f"{deploy_dir}/{files['support_encoder']}", backend, 'fp32', device, threads)
        self.partnet = GraphRunner(f"{deploy_dir}/{files['partnet']}", backend, 'fp32', device, threads)
        # static shapes: one compilation per image size, but a planned (smaller) full-size activation memory
        self.generator = GraphRunner(
            f"{deploy_dir}/{files['generator']}", backend, precision, device, threads, static_shapes=True)
        self._encoding_key = None
        self._encoding: Optional[Tuple[np.ndarray, ...]] = None
        self.support_bank = None
        #: PartNet module that encodes the supports on the host (the inferencer binds its own); None
        #: runs the support-encoder graph instead
        self.host_partnet = None

    @property
    def num_classes(self) -> int:
        return int(self.manifest['num_classes'])

    def check_model(self, model) -> None:
        """ValueError when the export does not belong to ``model`` (classes, noise, parts, supports)."""
        from .onnx_export import sampled_generator
        generator = sampled_generator(model)
        bank = model.part_inferencer.support_bank
        mine = dict(
            num_classes=int(model.num_classes),
            z_dim=int(generator.z_dim),
            part_noise_channels=int(generator.part_nc - 1),
            part_feature_channels=int(model.part_inferencer.out_channels),
            num_shots=int(bank.num_supports))
        differ = {k: (self.manifest[k], v) for k, v in mine.items() if self.manifest[k] != v}
        if differ:
            raise ValueError(f'the exported graphs do not match the model: {differ} (exported, model); re-export '
                             'with tools/deployment/export_onnx.py')

    def check_label(self, label: np.ndarray) -> None:
        """ValueError for an image size the generator graph cannot take or a label id beyond its classes."""
        multiple = int(self.manifest['size_multiple'])
        if label.ndim != 2 or label.shape[0] % multiple or label.shape[1] % multiple:
            raise ValueError(f'label map of size {label.shape}: the exported generator takes (H, W) multiples of '
                             f'{multiple}')
        low, high = int(label.min()), int(label.max())
        if low < 0 or high >= self.num_classes:
            raise ValueError(f'label map holds class id {high if high >= self.num_classes else low}: the exported '
                             f'model has {self.num_classes} classes (ids 0..{self.num_classes - 1})')

    def _support_encoding(self) -> Tuple[np.ndarray, ...]:
        """The support encoder's outputs for the bound support bank (re-run after ``set_supports``)."""
        bank = self.support_bank
        key = (getattr(bank, '_maps_version', None), bank.supports.data_ptr(), tuple(bank.supports.shape))
        if key != self._encoding_key:
            if self.host_partnet is not None:
                with torch.no_grad():
                    encoding = bank.encoding(self.host_partnet)
                self._encoding = tuple(t.float().cpu().numpy() for t in (*encoding.keys, *encoding.values))
            else:
                self._encoding = tuple(self.support_encoder({'supports': bank.supports.float().cpu().numpy()}))
            self._encoding_key = key
        return self._encoding

    def encoding(self) -> SupportEncoding:
        """The graph's support encoding as a :class:`SupportEncoding` (tensors)."""
        arrays = [torch.from_numpy(a) for a in self._support_encoding()]
        layers = len(arrays) // 2
        return SupportEncoding(
            tuple(arrays[:layers]), tuple(arrays[layers:]), int(self.manifest['num_shots']),
            (int(self.manifest['map_size']), ) * 2)

    def run_partnet(self, queries: Tensor, categories: Tensor) -> Tuple[Tensor, Tensor]:
        """``ObjectPartInferencer.run_partnet`` on the graphs: (N,1,64,64), (N,) -> features, logits."""
        if self.support_bank is None:
            raise RuntimeError('GraphSampler.run_partnet: bind a support bank first (sampler.support_bank = bank)')
        index = self.support_bank.index_of(categories.cpu())
        feed = dict(query=queries.float().cpu().numpy(), support_index=index.numpy())
        feed.update(zip(self.partnet.input_names[2:], self._support_encoding()))
        features, logits = self.partnet(feed)
        device = queries.device
        return torch.from_numpy(features).to(device), torch.from_numpy(logits).to(device)

    def generate(self, onehot: Tensor, part_features: Tensor, part_logits: Tensor, z: Tensor, z_part: Tensor) -> Tensor:
        """The generator graph: (B,C,H,W), (B,288,H,W), (B,9,H,W), (B,z_dim,H,W), (B,31,H/32,W/32) -> (B,3,H,W)."""
        names = ('onehot', 'part_features', 'part_logits', 'z', 'z_part')
        tensors = (onehot, part_features, part_logits, z, z_part)
        image, = self.generator({n: t.detach().float().cpu().numpy() for n, t in zip(names, tensors)})
        return torch.from_numpy(image).to(onehot.device)
