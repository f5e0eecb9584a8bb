"""IPOSEInferencer: label map (+ instance map) -> synthesized image and part map, with editing.

Editing (paper Fig. 5 and 6):

* **multi-modal synthesis**: new noise for the whole image (``resample('global')``), inside one
  object (``'object:<instance value>'``) or inside one part of one object
  (``'part:<instance value>:<part id>'``) or any boolean mask. The generator is fully
  convolutional in its noise ``z``: the inferencer always passes a spatial map (1,z_dim,H,W)
  (constant for a fresh synthesis, which equals the reference's expanded vector) and a region edit
  draws new values inside the region only. Pixels outside change only within the generator's
  receptive-field halo of the region (a few cells of every resolution level whose nearest
  sampling of the noise hits the region). The part noise ``z_part`` (1,31,h0,w0) is redrawn by
  ``'global'`` only: its cells are H/32 pixels wide and pass through instance norms (one
  redrawn cell shifts the whole image), and it modulates the pixels where no part is predicted,
  not the inside of objects.
* **part editing**: ``set_supports(category, maps)`` replaces the support part maps of a part
  category (e.g. wheels erased from the car supports) through ``SupportBank.set_supports``;
  PartNet then predicts part maps with that structure and the generator follows them.
"""
from dataclasses import dataclass, replace
from typing import Dict, Optional, Tuple, Union

import cv2
import numpy as np
import torch
import torch.nn as nn
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.logging import print_log

from .model_loading import init_model

MapLike = Union[str, np.ndarray, torch.Tensor]


def read_index_map(source: MapLike, name: str) -> np.ndarray:
    """(H, W) int64 map from a PNG path (8 or 16 bit, first channel) or an array/tensor."""
    if isinstance(source, str):
        array = cv2.imread(source, cv2.IMREAD_UNCHANGED)
        if array is None:
            raise FileNotFoundError(f'{name}: cannot read {source}.')
        if array.ndim == 3:
            array = array[..., 0]
    elif isinstance(source, torch.Tensor):
        array = source.detach().cpu().numpy()
    else:
        array = np.asarray(source)
    array = np.squeeze(array)
    if array.ndim != 2:
        raise ValueError(f'{name}: expected an (H, W) map, got shape {array.shape}.')
    return array.astype(np.int64)


@dataclass
class SynthesisResult:
    """One synthesis.

    Attributes:
        image (np.ndarray): (H, W, 3) uint8 RGB.
        parts (np.ndarray): (H, W) int64 predicted part ids (0 = not an object part).
        label (np.ndarray): (H, W) int64 input label map.
        inst (np.ndarray): (H, W) int64 instance map used.
        objects (np.ndarray): (K, 8) object table (data contract).
        z (Tensor): (1, z_dim, H, W) spatial noise used.
        z_part (Tensor): (1, 31, h0, w0) part noise used.
    """
    image: np.ndarray
    parts: np.ndarray
    label: np.ndarray
    inst: np.ndarray
    objects: np.ndarray
    z: torch.Tensor
    z_part: torch.Tensor


def _parse_region(region: Union[str, np.ndarray], result: SynthesisResult) -> Optional[np.ndarray]:
    """'global' -> None (everything); 'object:<v>' / 'part:<v>:<p>' / bool mask -> (H, W) bool."""
    if isinstance(region, np.ndarray):
        if region.shape != result.label.shape:
            raise ValueError(f'resample: the region mask has shape {region.shape}, the image {result.label.shape}.')
        return region.astype(bool)
    kind, _, rest = str(region).partition(':')
    if kind == 'global':
        return None
    if kind == 'object':
        mask = result.inst == int(rest)
    elif kind == 'part':
        value, _, part = rest.partition(':')
        mask = (result.inst == int(value)) & (result.parts == int(part))
    else:
        raise ValueError(f"resample: region must be 'global', 'object:<instance value>', "
                         f"'part:<instance value>:<part id>' or a mask, got {region!r}.")
    if not mask.any():
        raise ValueError(f'resample: region {region!r} is empty in this synthesis (instance values: '
                         f'{sorted(v for v in np.unique(result.inst).tolist() if v >= 1000)}).')
    return mask


def _graph_precision(backend: str, precision: Optional[str], explicit: bool) -> str:
    """Generator precision of a graph backend.

    'fp32'; 'bf16'; 'auto' -> bf16 where OpenVINO runs it natively, else fp32. A precision that only
    follows the model's ``sample_precision`` (``explicit`` False) falls back to fp32 where the backend
    does not run it (a bf16 model on ONNX Runtime); an explicit one is checked by the backend.
    """
    from mmipose.deploy.onnx_backends import GRAPH_PRECISIONS, check_backend
    if precision in (None, 'fp32'):
        return 'fp32'
    if precision == 'auto':
        if backend != 'openvino':
            return 'fp32'
        try:
            check_backend('openvino', 'bf16')
        except (ImportError, ValueError):  # no openvino, or no native bf16
            return 'fp32'
        return 'bf16'
    if not explicit and precision not in GRAPH_PRECISIONS.get(backend, ()):
        return 'fp32'
    return precision


class IPOSEInferencer:
    """Synthesize images and part maps from label maps with a trained IPOSE model.

    Args:
        model (nn.Module | str | Config): an IPOSE model or a config (path) (then built with
            :func:`init_model` with ``sample_model``: only PartNet and the sampled generator are
            built, no discriminator, CLIP style loss or second generator).
        checkpoint (str, optional): checkpoint when ``model`` is a config path.
        device (str): device when ``model`` is a config (a model passed in stays where it is).
        part_categories (dict, optional): label id -> part-category id of the object classes;
            defaults to the config's ``object_part_categories`` entry.
        sample_model (str): ``'ema'`` (default when the model has EMA) or ``'orig'``.
        precision (str, optional): sampling precision, 'fp32' / 'bf16' / 'fp16' or 'auto' (bf16
            where the device runs it natively, else fp32); None keeps the model's
            ``sample_precision``.
        channels_last (bool, optional): channels-last weights (faster convolutions); None keeps
            the model's layout.
        backend (str): who runs the two networks (PartNet, generator): 'auto' (default: OpenVINO
            on a CPU where the ``openvino`` package is installed, the fastest measured path, else
            eager PyTorch), 'pytorch' (eager), 'onnxruntime' or 'openvino' (exported ONNX graphs,
            :mod:`mmipose.deploy`). Boxes, crops, part pasting, noise, region and part editing are
            the same code for all backends.
        deploy_dir (str, optional): the export folder of a graph backend
            (``tools/deployment/export_onnx.py``); None takes the model's folder in the export cache
            (:mod:`mmipose.deploy.export_cache`), exporting it there first (parity checked) when it is
            missing. With a graph backend ``precision`` is 'fp32', or for OpenVINO 'bf16' / 'auto'
            (None follows the model's ``sample_precision``, fp32 where the backend lacks it); ``device``
            'cuda' selects ONNX Runtime's CUDA provider.
        cfg_options (dict, optional): config overrides when ``model`` is a config.

    When the inferencer builds the model itself (``model`` a config) and a graph backend runs
    the networks, the eager generator's weights are released after the export check: the graphs hold
    their own copy.

    Example:
        >>> inferencer = IPOSEInferencer('configs/toy/ipose_tiny_1xb4-600iters_toy-64x128.py', 'iter_600.pth')
        >>> result = inferencer('label.png', seed=0)
        >>> edited = inferencer.resample(result, 'object:7001', seed=1)
    """

    def __init__(self,
                 model: Union[nn.Module, str, Config],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 part_categories: Optional[Dict[int, int]] = None,
                 sample_model: Optional[str] = None,
                 precision: Optional[str] = None,
                 channels_last: Optional[bool] = None,
                 backend: str = 'auto',
                 deploy_dir: Optional[str] = None,
                 cfg_options: Optional[dict] = None) -> None:
        from mmipose.deploy.onnx_backends import BACKENDS, check_backend, resolve_backend
        if backend not in BACKENDS:
            raise ValueError(f'IPOSEInferencer: backend must be one of {BACKENDS}, got {backend!r}')
        if backend not in ('auto', 'pytorch'):  # package and device before any work (model building, export)
            check_backend(backend, _graph_precision(backend, precision, True), str(device))
        owns_model = isinstance(model, (str, Config))
        if owns_model:
            model = init_model(
                model,
                checkpoint,
                'cpu' if backend not in ('auto', 'pytorch') else device,
                cfg_options=cfg_options,
                sample_model=sample_model or 'auto')
        self.model = model.eval()
        self.graphs = None
        requested = precision if precision is not None else getattr(model, 'sample_precision', 'fp32')
        if backend == 'auto':
            exportable = getattr(model, 'part_inferencer', None) is not None
            # a model passed in runs where its weights are (``device`` is for building one from a config)
            where = str(device) if owns_model else str(next(model.parameters()).device)
            backend = 'pytorch'
            if exportable:
                backend = resolve_backend('auto', where, _graph_precision('openvino', requested, False))
        graph_precision = None
        if backend != 'pytorch':
            graph_precision = _graph_precision(backend, requested, precision is not None)
            check_backend(backend, graph_precision, str(device))
            precision = None
        if precision is not None:
            from mmipose.utils.precision import bf16_supported, check_precision
            if precision == 'auto':
                precision = 'bf16' if bf16_supported(self.device) else 'fp32'
            model.sample_precision = check_precision(precision, 'IPOSEInferencer precision')
        if channels_last is not None:
            model.set_memory_format(torch.channels_last if channels_last else torch.contiguous_format)
        cfg = getattr(model, 'cfg', None)
        if part_categories is None and cfg is not None:
            part_categories = cfg.get('object_part_categories')
        if not isinstance(part_categories, dict):
            raise ValueError('IPOSEInferencer: no part_categories (label id -> part category) given and the '
                             "config has no 'object_part_categories' dict.")
        self.part_categories = {int(k): int(v) for k, v in part_categories.items()}
        if sample_model is None:
            sample_model = 'ema' if getattr(model, 'with_ema_gen', False) else 'orig'
        self.sample_model = sample_model
        self.backend = backend
        self.precision = graph_precision or getattr(model, 'sample_precision', 'fp32')
        if backend != 'pytorch':
            self.graphs = self._graph_sampler(backend, graph_precision, str(device), deploy_dir)
            if owns_model:  # nobody else holds the eager generator: the graphs replace its weights
                self.generator.to('meta')
        print_log(f'IPOSEInferencer: {backend} backend, generator precision {self.precision}', logger='current')

    def _graph_sampler(self, backend: str, precision: str, device: str, deploy_dir: Optional[str]):
        """The exported graphs of the model on ``backend`` (from the export cache when no folder is given)."""
        from mmipose.deploy.graph_sampler import GraphSampler
        if deploy_dir is None:
            from mmipose.deploy.export_cache import cached_export
            deploy_dir = cached_export(self.model, self.part_categories, parity_backends=[backend])
        graphs = GraphSampler(deploy_dir, backend, precision, device)
        graphs.check_model(self.model)
        graphs.support_bank = self.support_bank
        graphs.host_partnet = self.model.part_inferencer.partnet  # see GraphSampler: undefined support tokens
        return graphs

    # ----------------------------------------------------------------- helpers
    @property
    def device(self) -> torch.device:
        if self.graphs is not None:
            return torch.device('cpu')  # the graph backends take host arrays
        return next(self.model.parameters()).device

    @property
    def generator(self) -> nn.Module:
        if self.sample_model == 'ema':
            return self.model.generator_ema.module
        return self.model.generator

    def _noise_shapes(self, height: int, width: int) -> Tuple[int, Tuple[int, int, int]]:
        """z_dim and the (C, h0, w0) part-noise shape of the generator (PSMGenerator attributes)."""
        gen = self.generator
        z_dim = int(getattr(gen, 'z_dim', 64))
        latent_size = getattr(gen, 'latent_size', None)
        if callable(latent_size):
            latent = latent_size((height, width))
        else:
            factor = 2**(int(getattr(gen, 'num_res_blocks', 6)) - 1)
            latent = (max(1, height // factor), max(1, width // factor))
        return z_dim, (int(getattr(gen, 'part_nc', 32)) - 1, int(latent[0]), int(latent[1]))

    def sample_noise(self, height: int, width: int, seed: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Fresh noise: spatial z (1, z_dim, H, W) constant over the image, z_part (1, 31, h0, w0)."""
        g = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        z_dim, part_shape = self._noise_shapes(height, width)
        z_part = torch.randn((1, *part_shape), generator=g)
        z = torch.randn((1, z_dim, 1, 1), generator=g).expand(1, z_dim, height, width).clone()
        return z, z_part

    def objects_for(self, label: np.ndarray, inst: np.ndarray) -> np.ndarray:
        """(K, 8) object table of an instance map (data contract rule)."""
        from mmipose.datasets.object_boxes import OBJECT_ROW_WIDTH, compute_object_boxes
        boxes = compute_object_boxes(inst, label, self.part_categories)
        return np.asarray(boxes, np.int64).reshape(-1, OBJECT_ROW_WIDTH)

    def _generate(self, label: np.ndarray, inst: np.ndarray, objects: np.ndarray, z: torch.Tensor,
                  z_part: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """Run the model once; returns (RGB image, part ids)."""
        from mmipose.visualization.sample_grid import tensor_to_rgb
        if self.graphs is not None:
            return self._generate_with_graphs(label, inst, objects, z, z_part)
        h, w = label.shape
        data = dict(
            inputs=dict(
                label=[torch.from_numpy(label)[None]],
                inst=[torch.from_numpy(inst)[None]],
                z=[z[0]],
                z_part=[z_part[0]],
                sample_model=self.sample_model),
            data_samples=[DataSample(metainfo=dict(objects=objects))])
        with torch.no_grad():
            sample = self.model.val_step(data)[0]
        fake = sample.get('fake_img')
        if fake is None:
            fake = sample.ema.fake_img
        return tensor_to_rgb(fake), sample.pred_parts.reshape(h, w).cpu().numpy().astype(np.int64)

    def _generate_with_graphs(self, label: np.ndarray, inst: np.ndarray, objects: np.ndarray, z: torch.Tensor,
                              z_part: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """:meth:`_generate` with the exported graphs in place of the two network calls."""
        from mmipose.models.channel_argmax import channel_argmax
        from mmipose.models.editors.ipose_inputs import label_to_onehot
        from mmipose.visualization.sample_grid import tensor_to_rgb
        self.graphs.check_label(label)
        model = self.model
        onehot = label_to_onehot(torch.from_numpy(label)[None, None], model.num_classes)
        tables = model.part_inferencer.drop_unsupported_objects([torch.from_numpy(objects)])
        with torch.no_grad():
            features, logits = model.part_inferencer(
                torch.from_numpy(inst)[None, None], tables, partnet_runner=self.graphs.run_partnet)
        fake = self.graphs.generate(onehot, features, logits, z, z_part)
        bgr = model._to_bgr_255(fake.float(), DataSample.stack([DataSample()]))
        return tensor_to_rgb(bgr[0]), channel_argmax(logits)[0].numpy().astype(np.int64)

    # ----------------------------------------------------------------- API
    def __call__(self,
                 label: MapLike,
                 inst: Optional[MapLike] = None,
                 seed: Optional[int] = None,
                 noise: Optional[Tuple[torch.Tensor, torch.Tensor]] = None) -> SynthesisResult:
        """Synthesize one image.

        Args:
            label: (H, W) label map (PNG path, array or tensor) at the model's working size.
            inst: (H, W) instance map; None -> connected components of the object classes.
            seed (int, optional): noise seed (ignored when ``noise`` is given).
            noise (tuple, optional): ``(z (1,z_dim,H,W), z_part (1,31,h0,w0))`` to reuse.

        Returns:
            SynthesisResult: image (H,W,3) uint8 RGB, parts (H,W), the noise used and the inputs.
        """
        label_map = read_index_map(label, 'label')
        if self.graphs is not None:  # sizes and class ids the exported graphs take, before any work
            self.graphs.check_label(label_map)
        if inst is None:
            from mmipose.datasets.object_boxes import instances_from_components
            inst_map = instances_from_components(label_map, sorted(self.part_categories)).astype(np.int64)
        else:
            inst_map = read_index_map(inst, 'inst')
        if inst_map.shape != label_map.shape:
            raise ValueError(f'inst {inst_map.shape} and label {label_map.shape} must have the same size.')
        objects = self.objects_for(label_map, inst_map)
        z, z_part = noise if noise is not None else self.sample_noise(*label_map.shape, seed=seed)
        image, parts = self._generate(label_map, inst_map, objects, z, z_part)
        return SynthesisResult(image, parts, label_map, inst_map, objects, z, z_part)

    def resample(self,
                 result: SynthesisResult,
                 region: Union[str, np.ndarray] = 'global',
                 seed: Optional[int] = None) -> SynthesisResult:
        """New noise inside ``region`` only (paper Fig. 5); everything else stays fixed.

        Args:
            result: a previous synthesis (its noise is kept outside the region).
            region: ``'global'``, ``'object:<instance value>'``, ``'part:<instance value>:<part id>'``
                (part ids of ``result.parts``) or an (H, W) bool mask.
            seed (int, optional): seed of the new noise.

        Returns:
            SynthesisResult: the edited synthesis with its noise.
        """
        mask = _parse_region(region, result)
        new_z, new_part = self.sample_noise(*result.label.shape, seed=seed)
        if mask is None:
            return self(result.label, result.inst, noise=(new_z, new_part))
        z = torch.where(torch.from_numpy(mask)[None, None], new_z, result.z)
        image, parts = self._generate(result.label, result.inst, result.objects, z, result.z_part)
        return replace(result, image=image, parts=parts, z=z)

    def set_supports(self, category: int, maps) -> None:
        """Replace the support part maps of a part category (part editing, paper Fig. 6).

        Args:
            category (int): part-category id (e.g. 26 car).
            maps: k support part maps, (k, 64, 64) part ids (array / tensor / list of PNG paths).
        """
        if isinstance(maps, (list, tuple)) and maps and isinstance(maps[0], str):
            maps = np.stack([read_index_map(p, 'support') for p in maps])
        self.support_bank.set_supports(category, torch.as_tensor(np.asarray(maps)).long())

    @property
    def support_bank(self):
        inferencer = self.model.part_inferencer
        bank = getattr(inferencer, 'support_bank', None)
        if bank is None:
            raise AttributeError('IPOSEInferencer: the model has no part_inferencer.support_bank.')
        return bank
