"""Scene quality of a trained iPOSE model under every inference backend, against eager fp32.

Every validation scene is synthesized once per variant with the same noise (``seed + scene index``)
through :class:`~mmipose.apis.IPOSEInferencer`, so all variants share the host code (object boxes,
crops, part pasting, noise) and differ only in who runs PartNet and the generator. Per variant:

* ``Seg/mIoU`` and ``Seg/AC`` of a segmenter on the synthesized images (the existing
  ``SegmentationMetric``: the paper's protocol, the segmenter's prediction vs. the input label map);
* the image difference against eager fp32 on the same scene and noise: max / mean abs in grey levels
  (uint8 RGB) and the fraction of pixels with any channel different;
* the fraction of part-map pixels (predicted part ids) that differ from eager fp32.

Variants (:data:`VARIANTS`): ``pytorch-fp32`` (the reference), ``pytorch-bf16`` (the eager default
levers: bf16 autocast of the generator, channels-last weights), ``onnxruntime`` (fp32 graphs),
``openvino`` and ``openvino-bf16`` (generator graph in fp32 / bf16; PartNet stays fp32). The graphs are
exported once for all graph variants. A variant whose package or native bf16 is missing is skipped with
the reason.

Used by ``tools/analysis/backend_scene_metrics.py``; see docs/deployment.md.
"""
import copy
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from tqdm import tqdm

REFERENCE = 'pytorch-fp32'
#: variant -> (backend, precision, channels_last) passed to IPOSEInferencer
VARIANT_SETTINGS = {
    'pytorch-fp32': ('pytorch', 'fp32', False),
    'pytorch-bf16': ('pytorch', 'bf16', True),
    'onnxruntime': ('onnxruntime', 'fp32', False),
    'openvino': ('openvino', 'fp32', False),
    'openvino-bf16': ('openvino', 'bf16', False),
}
VARIANTS = tuple(VARIANT_SETTINGS)


@dataclass
class Scene:
    """One scene to synthesize.

    Attributes:
        name (str): scene name (e.g. the image name of the dataset).
        label (np.ndarray): (H, W) int64 label map.
        inst (np.ndarray): (H, W) int64 instance map.
        objects (np.ndarray): (K, 8) int64 object table (data contract).
    """
    name: str
    label: np.ndarray
    inst: np.ndarray
    objects: np.ndarray


def check_variants(variants: Sequence[str]) -> List[str]:
    """The variants as a list, ValueError naming an unknown one."""
    unknown = [v for v in variants if v not in VARIANT_SETTINGS]
    if unknown:
        raise ValueError(f'scene quality: unknown variants {unknown}; choose from {VARIANTS}')
    return list(variants)


def variant_unavailable(variant: str) -> Optional[str]:
    """Why ``variant`` cannot run here (missing package, no native bf16), or None when it can."""
    backend, precision, _ = VARIANT_SETTINGS[variant]
    if backend == 'pytorch':
        return None
    from .onnx_backends import check_backend
    try:
        check_backend(backend, precision, 'cpu')
    except (ImportError, ValueError) as error:
        return str(error)
    return None


def metric_sample(image: np.ndarray, label: np.ndarray) -> dict:
    """What ``SegmentationMetric.process`` reads from one output: ``fake_img`` and ``label``.

    Args:
        image (np.ndarray): (H, W, 3) uint8 RGB (the inferencer's image).
        label (np.ndarray): (H, W) label map the image was synthesized from.

    Returns:
        dict: ``fake_img`` (3, H, W) float BGR in [0, 255], ``label`` (1, H, W) int64.
    """
    bgr = np.ascontiguousarray(image[..., ::-1].transpose(2, 0, 1))
    return dict(fake_img=torch.from_numpy(bgr).float(), label=torch.from_numpy(np.asarray(label, np.int64))[None])


def image_difference(image: np.ndarray, reference: np.ndarray) -> Dict[str, float]:
    """Max / mean abs difference in grey levels and the fraction of pixels differing, (H, W, 3) uint8 each."""
    diff = np.abs(image.astype(np.int16) - reference.astype(np.int16))
    return dict(
        image_max_abs=float(diff.max()),
        image_mean_abs=float(diff.mean()),
        image_pixels_differing=float(diff.any(-1).mean()))


def _memory_format(model: nn.Module) -> torch.memory_format:
    """The layout of the model's 4-D weights (channels-last when the first one is stored so)."""
    for p in model.parameters():
        if p.dim() == 4 and p.shape[1] > 1 and p.shape[2] * p.shape[3] > 1:
            return torch.channels_last if not p.is_contiguous() else torch.contiguous_format
    return torch.contiguous_format


def _graph_backends(variants: Sequence[str]) -> List[str]:
    return sorted({VARIANT_SETTINGS[v][0] for v in variants if VARIANT_SETTINGS[v][0] != 'pytorch'})


def measure_scene_quality(model: nn.Module,
                          scenes: Sequence[Scene],
                          metric: Union[dict, BaseMetric],
                          variants: Sequence[str] = VARIANTS,
                          seed: int = 0,
                          deploy_dir: Optional[str] = None,
                          export_parity: bool = True,
                          progress: bool = True) -> Dict[str, dict]:
    """Synthesize every scene once per variant (same noise) and score it against eager fp32.

    Everything runs on the CPU. The model's sampling precision and weight layout are restored at the
    end (the eager variants set them through the inferencer).

    Args:
        model (nn.Module): an IPOSE sampling model on the CPU (``init_model(..., sample_model='auto')``)
            with ``cfg.object_part_categories``.
        scenes (Sequence[Scene]): the scenes; (H, W) multiples of 32 for the graph variants.
        metric (dict | BaseMetric): a ``SegmentationMetric`` or its config (built with ``METRICS``).
        variants (Sequence[str]): from :data:`VARIANTS`; ``pytorch-fp32`` always runs (the reference).
        seed (int): scene ``i`` is synthesized with ``IPOSEInferencer.sample_noise(H, W, seed + i)``.
        deploy_dir (str, optional): an export folder of this model for the graph variants; None exports
            into a temporary folder (parity checked on the graph backends that run, at the first
            scene's size).
        export_parity (bool): False exports without the parity check (the results then show the
            difference to eager fp32 instead of an export error).
        progress (bool): a tqdm bar over the scenes of each variant.

    Returns:
        dict: variant -> ``backend``, ``precision``, ``channels_last``, ``Seg/mIoU``, ``Seg/AC``
        (percent), ``image_max_abs``, ``image_mean_abs`` (grey levels), ``image_pixels_differing``,
        ``parts_pixels_differing`` (fractions), ``num_scenes``; or ``skipped`` with the reason.
    """
    from mmipose.apis import IPOSEInferencer
    from mmipose.registry import METRICS

    from .onnx_export import export_sampling_graphs
    variants = check_variants(variants)
    if not scenes:
        raise ValueError('scene quality: no scenes given')
    order = [REFERENCE] + [v for v in dict.fromkeys(variants) if v != REFERENCE]
    if isinstance(metric, dict):
        metric = METRICS.build(copy.deepcopy(metric))
    skipped = {v: reason for v in order if (reason := variant_unavailable(v)) is not None}
    runnable = [v for v in order if v not in skipped]
    saved_state = (model.sample_precision, _memory_format(model))
    reference_images: List[np.ndarray] = []
    reference_parts: List[np.ndarray] = []
    results: Dict[str, dict] = {}
    part_categories: Dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix='mmipose_scene_quality_') as tmp:
        try:
            for variant in runnable:
                backend, precision, channels_last = VARIANT_SETTINGS[variant]
                if backend != 'pytorch' and deploy_dir is None:
                    # the model is in the reference's fp32 NCHW state here: export once for all graph variants
                    deploy_dir = tmp
                    export_sampling_graphs(
                        model,
                        deploy_dir,
                        part_categories,
                        tuple(scenes[0].label.shape),
                        parity_backends=_graph_backends(runnable) if export_parity else (),
                        check_double_size=False)
                inferencer = IPOSEInferencer(
                    model,
                    precision=precision,
                    channels_last=channels_last,
                    backend=backend,
                    deploy_dir=deploy_dir if backend != 'pytorch' else None)
                if variant == REFERENCE:
                    part_categories = inferencer.part_categories
                diffs = []
                for i, scene in enumerate(tqdm(scenes, desc=variant, unit='scene', disable=not progress)):
                    z, z_part = inferencer.sample_noise(*scene.label.shape, seed=seed + i)
                    image, parts = inferencer._generate(scene.label, scene.inst, scene.objects, z, z_part)
                    if variant == REFERENCE:
                        reference_images.append(image)
                        reference_parts.append(parts)
                    diff = image_difference(image, reference_images[i])
                    diff['parts_pixels_differing'] = float((parts != reference_parts[i]).mean())
                    diffs.append(diff)
                    metric.process(None, [metric_sample(image, scene.label)])
                scores = {k: float(v) for k, v in metric.evaluate(len(scenes)).items()}
                results[variant] = dict(
                    backend=backend,
                    precision=precision,
                    channels_last=channels_last,
                    **scores,
                    image_max_abs=max(d['image_max_abs'] for d in diffs),
                    image_mean_abs=float(np.mean([d['image_mean_abs'] for d in diffs])),
                    image_pixels_differing=float(np.mean([d['image_pixels_differing'] for d in diffs])),
                    parts_pixels_differing=float(np.mean([d['parts_pixels_differing'] for d in diffs])),
                    num_scenes=len(scenes))
        finally:
            model.sample_precision = saved_state[0]
            model.set_memory_format(saved_state[1])
    for variant, reason in skipped.items():
        results[variant] = dict(skipped=reason)
    return {v: results[v] for v in order}


def val_scenes(cfg, num_scenes: Optional[int] = None) -> List[Scene]:
    """The scenes of the config's validation dataset (its pipeline reads label, instances and objects).

    Args:
        cfg (Config): a model config with ``val_dataloader.dataset``.
        num_scenes (int, optional): the first ``num_scenes`` only.
    """
    from mmengine.registry import init_default_scope

    from mmipose.registry import DATASETS
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    dataset = DATASETS.build(copy.deepcopy(cfg.val_dataloader.dataset))
    count = len(dataset) if num_scenes is None else min(int(num_scenes), len(dataset))
    scenes = []
    for i in range(count):
        item = dataset[i]
        inputs, sample = item['inputs'], item['data_samples']
        objects = sample.metainfo.get('objects')
        if objects is None:
            raise KeyError(f'scene quality: the val pipeline of the config gives no objects metainfo (scene {i}); '
                           'it must compute object boxes (ComputeObjectBoxes)')
        scenes.append(
            Scene(
                name=str(sample.metainfo.get('image_name', i)),
                label=inputs['label'].reshape(inputs['label'].shape[-2:]).numpy().astype(np.int64),
                inst=inputs['inst'].reshape(inputs['inst'].shape[-2:]).numpy().astype(np.int64),
                objects=np.asarray(objects, np.int64)))
    return scenes


def scene_quality_from_config(config: str,
                              checkpoint: str,
                              segmenter_config: str,
                              segmenter_checkpoint: str,
                              variants: Sequence[str] = VARIANTS,
                              cfg_options: Optional[dict] = None,
                              num_scenes: Optional[int] = None,
                              seed: int = 0,
                              deploy_dir: Optional[str] = None,
                              export_parity: bool = True,
                              progress: bool = True) -> dict:
    """:func:`measure_scene_quality` on the validation scenes of a trained model's config.

    Args:
        config (str): IPOSE config (its ``val_dataloader`` gives the scenes).
        checkpoint (str): its checkpoint (loaded strictly into the sampling model).
        segmenter_config (str): MMSeg config of the segmenter that scores the images.
        segmenter_checkpoint (str): its checkpoint.
        cfg_options (dict, optional): overrides of the IPOSE config (data root, PartNet path, ...).
        Other arguments: see :func:`measure_scene_quality` and :func:`val_scenes`.

    Returns:
        dict: the inputs (paths, number of scenes, image size, seed) and ``variants`` (the results).
    """
    from mmipose.apis import init_model
    check_variants(variants)
    model = init_model(config, checkpoint, 'cpu', cfg_options=cfg_options, sample_model='auto')
    scenes = val_scenes(model.cfg, num_scenes)
    metric = dict(
        type='SegmentationMetric',
        segmenter_config=segmenter_config,
        segmenter_checkpoint=segmenter_checkpoint,
        device='cpu')
    results = measure_scene_quality(model, scenes, metric, variants, seed, deploy_dir, export_parity, progress)
    return dict(
        config=config,
        checkpoint=checkpoint,
        segmenter_config=segmenter_config,
        segmenter_checkpoint=segmenter_checkpoint,
        num_scenes=len(scenes),
        image_size=list(scenes[0].label.shape) if scenes else None,
        seed=seed,
        export_parity=export_parity if deploy_dir is None else None,
        variants=results)


def markdown_table(results: Dict[str, dict]) -> str:
    """The per-variant results of :func:`measure_scene_quality` as a markdown table."""
    lines = [
        '| variant | Seg/mIoU | Seg/AC | image max abs | image mean abs | pixels differing | part pixels differing |',
        '|---|---|---|---|---|---|---|',
    ]
    for variant, r in results.items():
        if 'skipped' in r:
            lines.append(f'| {variant} | skipped: {r["skipped"]} | | | | | |')
            continue
        lines.append(f'| {variant} | {r["Seg/mIoU"]:.2f} | {r["Seg/AC"]:.2f} | {r["image_max_abs"]:.0f} | '
                     f'{r["image_mean_abs"]:.3f} | {100 * r["image_pixels_differing"]:.2f} % | '
                     f'{100 * r["parts_pixels_differing"]:.3f} % |')
    return '\n'.join(lines)
