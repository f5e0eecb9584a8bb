"""Export the sampling path of a trained iPOSE model as ONNX graphs and check them against eager PyTorch.

Three graphs and a manifest go to ``out_dir`` (see :mod:`mmipose.deploy.export_modules`):

* ``support_encoder.onnx``: supports (S, k, 9, 64, 64) -> keys/values; S dynamic;
* ``partnet.onnx``: query (N, 1, 64, 64), support_index (N,), keys/values -> features, logits; N dynamic;
* ``generator.onnx``: onehot, part_features, part_logits, z (spatial), z_part -> image; batch, H and W
  dynamic (H, W multiples of 32: the generator starts at H/32 x W/32);
* ``deploy.json``: what the code around the graphs needs (classes, noise shapes, supports...) and the
  measured parity.

Exporter: ``torch.onnx.export(dynamo=False)`` (TorchScript). The dynamo exporter also produced a correct
generator, but it specialised the part-noise size (no dynamic H, W) and took ~10x longer.

Parity (:func:`check_parity`): the graphs run with ONNX Runtime (and OpenVINO when asked) on a scene with
objects, at the export size and at twice that size (dynamic shapes), against the eager model on the same
inputs. fp32 tolerance :data:`FP32_TOLERANCE` (max abs) on the support encoding, part features and
part logits, :data:`IMAGE_TOLERANCE` on images; part
maps (argmax of the logits) must be equal wherever the top two logits differ by more than
``2 * FP32_TOLERANCE``.
"""
import json
import os
import os.path as osp
import time
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from .export_modules import GeneratorGraph, PartNetGraph, SupportEncoderGraph
from .onnx_backends import GraphRunner, check_backend, check_opset

#: max abs difference allowed between a graph (fp32) and eager PyTorch fp32 (part features and logits,
#: support encoding)
FP32_TOLERANCE = 1e-4
#: the same for images in [-1, 1]: a tenth of a grey level. A trained generator amplifies fp32
#: summation-order differences through its normalisation layers (see docs/deployment.md)
IMAGE_TOLERANCE = 1e-3
MANIFEST = 'deploy.json'
GRAPH_FILES = dict(support_encoder='support_encoder.onnx', partnet='partnet.onnx', generator='generator.onnx')
DEFAULT_OPSET = 17
#: the generator's first feature map is H/32 x W/32
SIZE_MULTIPLE = 32


def sampled_generator(model: nn.Module) -> nn.Module:
    """The generator that sampling runs: the EMA one when the model has it, else the trained one."""
    if getattr(model, 'with_ema_gen', False) and getattr(model, 'generator_ema', None) is not None:
        return model.generator_ema.module
    if getattr(model, 'generator', None) is None:
        raise ValueError('export: the model has neither an EMA nor a trained generator')
    return model.generator


def check_image_size(size: Sequence[int], what: str = 'image size') -> Tuple[int, int]:
    """(H, W) as ints, or a ValueError when they are not positive multiples of 32."""
    if len(size) != 2 or any(int(s) <= 0 or int(s) % SIZE_MULTIPLE for s in size):
        raise ValueError(f'{what} {tuple(size)}: H and W must be positive multiples of {SIZE_MULTIPLE} (the '
                         f'generator starts at H/{SIZE_MULTIPLE} x W/{SIZE_MULTIPLE})')
    return int(size[0]), int(size[1])


def parity_scene(num_classes: int,
                 object_classes: Sequence[int],
                 size: Tuple[int, int],
                 seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """A label map (stuff bands + 2 to 8 elliptic objects of the object classes) and its instance map, (H, W) int64."""
    h, w = size
    rng = np.random.default_rng(seed)
    object_classes = [c for c in object_classes if c < num_classes]
    stuff = [c for c in range(1, num_classes) if c not in object_classes] or [0]
    label = np.zeros((h, w), np.int64)
    for i in range(4):
        label[i * h // 4:(i + 1) * h // 4] = stuff[int(rng.integers(len(stuff)))]
    inst = label.copy()
    yy, xx = np.mgrid[0:h, 0:w]
    count = max(2, min(8, 2 * len(object_classes)))
    for k in range(count):
        cls = object_classes[k % len(object_classes)] if object_classes else 0
        cy, cx = rng.uniform(0.2, 0.8) * h, (k + 0.5) / count * w
        ry, rx = rng.uniform(0.12, 0.3) * h, rng.uniform(0.3, 0.5) * w / count
        mask = ((yy - cy) / ry)**2 + ((xx - cx) / rx)**2 <= 1
        label[mask] = cls
        inst[mask] = cls * 1000 + k + 1
    return label, inst


def _eager_scene(model: nn.Module, part_categories: Dict[int, int], size: Tuple[int, int], seed: int) -> dict:
    """Inputs of both graphs for one scene, with the eager PartNet / generator outputs."""
    from mmipose.datasets.object_boxes import OBJECT_ROW_WIDTH, compute_object_boxes
    from mmipose.models.editors.ipose_inputs import label_to_onehot
    from mmipose.models.partnet.object_parts import plan_object_crop
    label, inst = parity_scene(model.num_classes, sorted(part_categories), size, seed)
    objects = np.asarray(compute_object_boxes(inst, label, part_categories), np.int64).reshape(-1, OBJECT_ROW_WIDTH)
    part_inferencer = model.part_inferencer
    kept = part_inferencer.drop_unsupported_objects([torch.from_numpy(objects)])
    inst_t = torch.from_numpy(inst)[None, None]
    crops = [plan_object_crop(0, row, *size) for row in kept[0].tolist()]
    g = torch.Generator().manual_seed(seed)
    generator = sampled_generator(model)
    z_part_shape = (generator.part_nc - 1, size[0] // SIZE_MULTIPLE, size[1] // SIZE_MULTIPLE)
    with torch.no_grad():
        queries = part_inferencer.crop_queries(inst_t, crops).float()
        index = part_inferencer.support_bank.index_of(kept[0][:, 1])
        eager_features, eager_logits = part_inferencer.run_partnet(queries, kept[0][:, 1])
        features, logits = part_inferencer(inst_t, kept)
        onehot = label_to_onehot(torch.from_numpy(label)[None, None], model.num_classes)
        z = torch.randn(1, generator.z_dim, *size, generator=g)
        z_part = torch.randn(1, *z_part_shape, generator=g)
        image = GeneratorGraph(generator)(onehot, features, logits, z, z_part)
    return dict(
        queries=queries,
        index=index,
        partnet=(eager_features, eager_logits),
        generator_inputs=(onehot, features, logits, z, z_part),
        image=image)


def _argmax_mismatches(logits: np.ndarray, reference: np.ndarray, margin: float) -> int:
    """Pixels whose argmax over dim 1 differs although the reference's top two differ by more than margin."""
    top2 = np.sort(reference, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > margin
    return int(((logits.argmax(1) != reference.argmax(1)) & clear).sum())


def defined_value_tokens(supports: torch.Tensor, tokens_per_shot: int) -> np.ndarray:
    """Which support value tokens are defined: (S, P, k*T) bool, False for part channels absent in their shot.

    PartNet encodes every part channel of every shot through its mask encoder (convolutions and
    instance norms). An all-zero channel reaches the first instance norm as a constant map, whose
    normalised value is 0 / 0: what comes out is float rounding of the mean, amplified by each
    following instance norm up to O(1), and it differs between PyTorch kernels and graph runtimes.
    The parity check skips those tokens; the inferencer encodes supports with PyTorch on the host.

    Args:
        supports (Tensor): (S, k, P, H, W) one-hot part maps.
        tokens_per_shot (int): T, tokens of one shot (the values hold k*T per part).
    """
    present = supports.flatten(3).amax(-1) > 0  # (S, k, P)
    return present.permute(0, 2, 1).repeat_interleave(tokens_per_shot, dim=2).numpy()


def compare_graphs(out_dir: str,
                   model: nn.Module,
                   part_categories: Dict[int, int],
                   size: Tuple[int, int],
                   backend: str = 'onnxruntime',
                   precision: str = 'fp32',
                   seed: int = 0,
                   scene: Optional[dict] = None,
                   runners: Optional[dict] = None) -> Dict[str, float]:
    """Run the three graphs and the eager model on one scene; the max abs differences and argmax mismatches.

    The support encoding is compared on its defined tokens (:func:`defined_value_tokens`); PartNet's
    graph then runs on the eager encoding.

    ``scene`` (from the eager model) and ``runners`` (:class:`GraphRunner` per graph) may be given to reuse them.
    """
    scene = scene or _eager_scene(model, part_categories, size, seed)
    runners = runners or {
        name: GraphRunner(osp.join(out_dir, f), backend, precision)
        for name, f in GRAPH_FILES.items()
    }
    bank = model.part_inferencer.support_bank
    supports = bank.supports.float()
    graph_encoding = runners['support_encoder']({'supports': supports.numpy()})
    with torch.no_grad():
        eager = bank.encoding(model.part_inferencer.partnet)
    eager_encoding = [t.float().numpy() for t in (*eager.keys, *eager.values)]
    layers = len(eager.keys)
    defined = defined_value_tokens(supports, eager.values[0].shape[3] // bank.num_supports)[:, :, None, :, None]
    key_diffs = [np.abs(g - e).max() for g, e in zip(graph_encoding[:layers], eager_encoding[:layers])]
    value_diffs = [
        np.where(defined, np.abs(g - e), 0).max() for g, e in zip(graph_encoding[layers:], eager_encoding[layers:])
    ]
    # PartNet is fed the eager encoding, as the inferencer does: its parity does not depend on undefined tokens
    feed = dict(query=scene['queries'].numpy(), support_index=scene['index'].numpy())
    feed.update(zip(runners['partnet'].input_names[2:], eager_encoding))
    features, logits = runners['partnet'](feed)
    eager_features, eager_logits = (t.numpy() for t in scene['partnet'])
    names = ('onehot', 'part_features', 'part_logits', 'z', 'z_part')
    image, = runners['generator']({n: t.numpy() for n, t in zip(names, scene['generator_inputs'])})
    return dict(
        support_encoding_max_abs=float(max(key_diffs + value_diffs)),
        undefined_value_tokens=float(1 - defined.mean()),
        image_max_abs=float(np.abs(image - scene['image'].numpy()).max()),
        part_features_max_abs=float(np.abs(features - eager_features).max()),
        part_logits_max_abs=float(np.abs(logits - eager_logits).max()),
        part_map_mismatches=_argmax_mismatches(logits, eager_logits, 2 * FP32_TOLERANCE),
        num_objects=int(len(scene['queries'])))


def check_parity(out_dir: str,
                 model: nn.Module,
                 part_categories: Dict[int, int],
                 sizes: Sequence[Tuple[int, int]],
                 backends: Sequence[str] = ('onnxruntime', ),
                 tolerance: float = FP32_TOLERANCE,
                 scenes: Optional[dict] = None,
                 image_tolerance: float = IMAGE_TOLERANCE) -> dict:
    """:func:`compare_graphs` at every size on every backend (fp32); ValueError beyond ``tolerance``.

    ``scenes`` may hold eager scenes already computed (``{(H, W): scene}``, seed 0).

    Returns:
        dict: ``{backend: {'HxW': differences}}``.
    """
    scenes = {
        tuple(size): (scenes or {}).get(tuple(size)) or _eager_scene(model, part_categories, tuple(size), 0)
        for size in sizes
    }
    report = {}
    for backend in backends:
        runners = {name: GraphRunner(osp.join(out_dir, f), backend) for name, f in GRAPH_FILES.items()}
        for (h, w), scene in scenes.items():
            diffs = compare_graphs(out_dir, model, part_categories, (h, w), backend, scene=scene, runners=runners)
            report.setdefault(backend, {})[f'{h}x{w}'] = diffs
            limits = {k: image_tolerance if k == 'image_max_abs' else tolerance for k in diffs if k.endswith('max_abs')}
            bad = {k: diffs[k] for k, limit in limits.items() if not diffs[k] <= limit}
            if bad or diffs['part_map_mismatches']:
                raise ValueError(f'export parity failed ({backend}, {h}x{w}): {diffs}; allowed: max abs {tolerance} '
                                 f'({image_tolerance} on images), part maps equal where the top-2 margin > '
                                 f'{2 * tolerance}')
    return report


def _export(module: nn.Module, args: tuple, path: str, input_names: List[str], output_names: List[str],
            dynamic_axes: dict, opset: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # tracer warnings on Python ints taken from shapes (constant ratios)
        torch.onnx.export(
            module,
            args,
            path,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            opset_version=opset,
            dynamo=False,
            do_constant_folding=True)
    _restore_input_names(path, input_names)


def _restore_input_names(path: str, input_names: List[str]) -> None:
    """Drop no-op casts of graph inputs (dtype already right) and keep the given input names.

    ONNX Runtime's optimiser removes such a cast and then exposes the input under the cast's output name.
    """
    import onnx
    graph_model = onnx.load(path)
    graph = graph_model.graph
    renames = {i.name: name for i, name in zip(graph.input, input_names) if i.name != name}
    for value in graph.input:
        value.name = renames.get(value.name, value.name)
    types = {i.name: i.type.tensor_type.elem_type for i in graph.input}
    replaced = {}
    for node in list(graph.node):
        node.input[:] = [renames.get(n, n) for n in node.input]
        if node.op_type == 'Cast' and node.input[0] in types and node.attribute[0].i == types[node.input[0]]:
            replaced[node.output[0]] = node.input[0]
            graph.node.remove(node)
    for node in graph.node:
        node.input[:] = [replaced.get(n, n) for n in node.input]
    if renames or replaced:
        onnx.save(graph_model, path)


def export_sampling_graphs(model: nn.Module,
                           out_dir: str,
                           part_categories: Dict[int, int],
                           image_size: Tuple[int, int] = (64, 128),
                           opset: int = DEFAULT_OPSET,
                           parity_backends: Sequence[str] = ('onnxruntime', ),
                           tolerance: float = FP32_TOLERANCE,
                           check_double_size: bool = True,
                           image_tolerance: float = IMAGE_TOLERANCE) -> dict:
    """Export the three sampling graphs of ``model`` to ``out_dir``, check their parity, write the manifest.

    Args:
        model (nn.Module): an IPOSE sampling model (e.g. ``init_model(config, ckpt, sample_model='auto')``).
        out_dir (str): folder of the graphs and ``deploy.json``.
        part_categories (dict): label id -> part category of the object classes (the config's
            ``object_part_categories``); used for the parity scene and kept in the manifest.
        image_size (tuple): (H, W) the graphs are traced and first checked at (multiples of 32).
        opset (int): ONNX opset.
        parity_backends (Sequence[str]): backends the parity is checked on ('onnxruntime', 'openvino').
        tolerance (float): max abs difference allowed against eager fp32 (PartNet, support encoding).
        check_double_size (bool): also check the parity at (2H, 2W) (the dynamic image size).
        image_tolerance (float): max abs difference allowed on images in [-1, 1].

    Returns:
        dict: the manifest (also written to ``out_dir/deploy.json``).
    """
    size = check_image_size(image_size, 'export image size')
    max_torch_opset = torch.onnx._constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET
    if not 7 <= opset <= max_torch_opset:
        raise ValueError(f'opset {opset}: the TorchScript ONNX exporter of torch {torch.__version__} writes opsets '
                         f'7..{max_torch_opset}')
    for backend in parity_backends:
        check_backend(backend)
    check_opset(opset, list(parity_backends))
    part_inferencer = getattr(model, 'part_inferencer', None)
    if part_inferencer is None:
        raise ValueError('export: the model has no part_inferencer (an OASIS baseline); only iPOSE exports')
    generator = sampled_generator(model)
    partnet = part_inferencer.partnet
    bank = part_inferencer.support_bank
    os.makedirs(out_dir, exist_ok=True)
    paths = {name: osp.join(out_dir, f) for name, f in GRAPH_FILES.items()}
    timings = {}
    layers = partnet.num_attention_layers
    key_names = [f'keys_{i}' for i in range(layers)]
    value_names = [f'values_{i}' for i in range(layers)]

    start = time.perf_counter()
    encoder = SupportEncoderGraph(partnet)
    supports = bank.supports.float()
    _export(encoder, (supports, ), paths['support_encoder'], ['supports'], key_names + value_names, {
        'supports': {
            0: 'sets'
        },
        **{
            n: {
                0: 'sets'
            }
            for n in key_names + value_names
        }
    }, opset)
    timings['support_encoder_s'] = time.perf_counter() - start

    start = time.perf_counter()
    scene = _eager_scene(model, part_categories, size, seed=0)  # the traced inputs
    with torch.no_grad():
        encoding = bank.encoding(partnet)
    graph = PartNetGraph(partnet, bank.num_supports, bank.map_size)
    _export(
        graph, (scene['queries'], scene['index'], *encoding.keys, *encoding.values), paths['partnet'],
        ['query', 'support_index'] + key_names + value_names, ['part_features', 'part_logits'], {
            'query': {
                0: 'objects'
            },
            'support_index': {
                0: 'objects'
            },
            'part_features': {
                0: 'objects'
            },
            'part_logits': {
                0: 'objects'
            },
            **{
                n: {
                    0: 'sets'
                }
                for n in key_names + value_names
            }
        }, opset)
    timings['partnet_s'] = time.perf_counter() - start

    start = time.perf_counter()
    gen_graph = GeneratorGraph(generator)
    names = ['onehot', 'part_features', 'part_logits', 'z']
    axes = {n: {0: 'batch', 2: 'height', 3: 'width'} for n in names + ['image']}
    axes['z_part'] = {0: 'batch', 2: 'height_32', 3: 'width_32'}
    _export(gen_graph, scene['generator_inputs'], paths['generator'], names + ['z_part'], ['image'], axes, opset)
    timings['generator_s'] = time.perf_counter() - start

    start = time.perf_counter()
    sizes = [size, (2 * size[0], 2 * size[1])] if check_double_size else [size]
    parity = check_parity(out_dir, model, part_categories, sizes, parity_backends, tolerance, {size: scene},
                          image_tolerance)
    timings['parity_s'] = time.perf_counter() - start
    preprocessor = getattr(model, 'data_preprocessor', None)
    manifest = dict(
        format_version=1,
        files=dict(GRAPH_FILES),
        opset=opset,
        exporter=f'torch.onnx TorchScript (torch {torch.__version__})',
        export_image_size=list(size),
        size_multiple=SIZE_MULTIPLE,
        num_classes=int(model.num_classes),
        z_dim=int(generator.z_dim),
        part_noise_channels=int(generator.part_nc - 1),
        num_parts=int(partnet.num_parts),
        part_feature_channels=int(part_inferencer.out_channels),
        num_shots=int(bank.num_supports),
        map_size=int(bank.map_size),
        num_attention_layers=int(layers),
        support_categories=[int(c) for c in bank.categories],
        object_part_categories={
            str(k): int(v)
            for k, v in part_categories.items()
        },
        output_channel_order=getattr(preprocessor, 'output_channel_order', None) or 'BGR',
        folded_spectral_norms=int(gen_graph.num_folded),
        tolerance=tolerance,
        image_tolerance=image_tolerance,
        parity=parity,
        export_seconds=timings)
    with open(osp.join(out_dir, MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=2)
    return manifest


def read_manifest(deploy_dir: str) -> dict:
    """The ``deploy.json`` of an export folder, or a FileNotFoundError naming what to run."""
    path = osp.join(deploy_dir, MANIFEST)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist: export the model first (tools/deployment/export_onnx.py '
                                'CONFIG CHECKPOINT --out-dir DIR)')
    with open(path) as f:
        manifest = json.load(f)
    missing = [f for f in manifest['files'].values() if not osp.isfile(osp.join(deploy_dir, f))]
    if missing:
        raise FileNotFoundError(f'{deploy_dir}: graphs {missing} listed in {MANIFEST} are missing')
    return manifest


def export_from_config(config: str, checkpoint: Optional[str], out_dir: str, **kwargs) -> dict:
    """Build the sampling model of ``config``, load ``checkpoint`` strictly and export it.

    ``kwargs`` go to :func:`export_sampling_graphs`.
    """
    from mmipose.apis.model_loading import init_model
    model = init_model(config, checkpoint, 'cpu', sample_model='auto')
    part_categories = kwargs.pop('part_categories', None) or model.cfg.get('object_part_categories')
    if not isinstance(part_categories, dict):
        raise ValueError(f"export: the config {config} has no 'object_part_categories' dict (label id -> part "
                         'category of the object classes)')
    return export_sampling_graphs(model, out_dir, {int(k): int(v) for k, v in part_categories.items()}, **kwargs)
