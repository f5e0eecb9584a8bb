"""The painter's model side: one :class:`IPOSEInferencer`, the dataset's classes and palette, and
the synthesis / redraw / part-editing calls the page makes.

Nothing here draws or samples by itself: synthesis, region resampling and support editing are
:class:`mmipose.apis.IPOSEInferencer`'s. This module adds what a page with several visitors
needs: per-visitor support edits applied to the one shared model under a lock, validation
scenes read from the config's dataset, and the pictures and lossless PNG files of a result.
"""
import copy
import glob
import hashlib
import inspect
import os.path as osp
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.config import Config

from mmipose.apis.inferencer import IPOSEInferencer, SynthesisResult, read_index_map
from mmipose.visualization import colorize_label, colorize_parts, label_palette, overlay_parts

from .label_canvas import INSTANCE_OFFSET, assign_instances, encode_png, resize_nearest

DEFAULT_DEMO_DIR = 'work_dirs/demo'


def demo_model_files(work_dir: str = DEFAULT_DEMO_DIR) -> Tuple[str, str]:
    """Config and checkpoint of the iPOSE stage that ``make demo`` (tools/demo.py) trained.

    The iPOSE stage writes ``<work_dir>/ipose/``: the config as the runner ran it (data and
    PartNet paths filled in) and ``last_checkpoint`` naming the checkpoint.

    Raises:
        FileNotFoundError: no trained demo model there, saying to run ``make demo``.
    """
    stage = osp.join(work_dir, 'ipose')
    configs = sorted(glob.glob(osp.join(stage, '*.py')))
    pointer = osp.join(stage, 'last_checkpoint')
    checkpoint = None
    if osp.isfile(pointer):
        with open(pointer) as f:
            checkpoint = f.read().strip()
    if not configs or not checkpoint or not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'no trained demo model in {stage} (expected the iPOSE config *.py and last_checkpoint there). '
            'Run `make demo` first (about 15 minutes on a CPU), or pass CONFIG CHECKPOINT, e.g. '
            'python demo/ipose_painter.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py '
            'checkpoints/ipose_cityscapes.pth')
    return configs[-1], checkpoint


def canvas_size(cfg: Config) -> Tuple[int, int]:
    """(height, width) the model works at: ``working_scale`` (w, h) of the config, else the
    ``height``/``width`` of its validation dataset (given or the dataset class's defaults),
    else 256 x 512."""
    if cfg.get('working_scale'):
        width, height = cfg.working_scale
        return int(height), int(width)
    dataset = cfg.get('val_dataloader', {}).get('dataset', {})
    height, width = dataset.get('height'), dataset.get('width')
    if height is None or width is None:
        try:
            from mmipose.registry import DATASETS
            params = inspect.signature(DATASETS.get(dataset.get('type')).__init__).parameters
            height = height or params['height'].default
            width = width or params['width'].default
        except (KeyError, TypeError, AttributeError):
            return 256, 512
    return int(height), int(width)


@dataclass
class ClassTable:
    """Classes of the model's dataset.

    Attributes:
        names (list[str]): class names, index = label id.
        palette (np.ndarray): (N, 3) uint8 RGB colours.
        object_classes (list[int]): label ids with objects (instances and parts).
        part_categories (dict): label id -> part-category id.
        part_names (dict): part-category id -> part names (index i = part id i + 1).
    """
    names: List[str]
    palette: np.ndarray
    object_classes: List[int]
    part_categories: Dict[int, int]
    part_names: Dict[int, List[str]] = field(default_factory=dict)

    def part_label(self, category: int, part: int) -> str:
        names = self.part_names.get(int(category), [])
        return names[part - 1] if 0 < part <= len(names) else ('background' if part == 0 else f'part {part}')

    def category_label(self, category: int) -> str:
        classes = [self.names[c] for c, k in self.part_categories.items() if k == category and c < len(self.names)]
        return f'{category} ({", ".join(classes) or "no class"})'


def class_table(cfg: Config) -> ClassTable:
    """Classes, palette and part tables from the config (model ``num_classes``, the validation dataset's
    metainfo, ``object_part_categories``); generic names and colours where the dataset has none."""
    num_classes = int(cfg.model.get('num_classes', 0))
    meta: dict = {}
    try:
        from mmengine.registry import init_default_scope

        from mmipose.registry import DATASETS
        init_default_scope(cfg.get('default_scope', 'mmagic'))
        dataset_cfg = dict(cfg.val_dataloader.dataset)
        dataset_class = DATASETS.get(dataset_cfg['type'])
        meta = dict(getattr(dataset_class, 'METAINFO', None) or {})
        if not meta.get('classes'):  # metainfo given at construction (e.g. Cityscapes): build it lazily
            dataset_cfg.update(lazy_init=True, pipeline=[])
            if 'generate' in inspect.signature(dataset_class.__init__).parameters:
                dataset_cfg['generate'] = False  # never generate data to read class names
            meta = dict(DATASETS.build(dataset_cfg).metainfo)
    except Exception:  # noqa: BLE001 (no dataset on this machine: generic names below)
        meta = meta or {}
    names = list(meta.get('classes') or [])
    num_classes = num_classes or len(names)
    names = (names + [f'class {i}' for i in range(len(names), num_classes)])[:num_classes]
    palette = np.asarray(meta.get('palette') or label_palette(num_classes), np.uint8)[:num_classes]
    if len(palette) < num_classes:
        palette = np.concatenate([palette, label_palette(num_classes)[len(palette):]])
    part_categories = {int(k): int(v) for k, v in (cfg.get('object_part_categories') or {}).items()}
    part_names = {int(k): list(v) for k, v in (meta.get('part_names') or {}).items()}
    return ClassTable(names, palette, sorted(part_categories), part_categories, part_names)


def result_pictures(result: SynthesisResult, table: ClassTable) -> Dict[str, np.ndarray]:
    """(H, W, 3) uint8 RGB pictures of a synthesis: image, part overlay, label, instances."""
    label = np.clip(result.label, 0, len(table.palette) - 1)
    label_rgb = colorize_label(label, palette=table.palette)
    # objects in distinct colours over the dimmed label colours
    instances = (label_rgb // 3).astype(np.uint8)
    objects = result.inst >= INSTANCE_OFFSET
    if objects.any():
        colours = label_palette(256)[1:]
        instances[objects] = colours[(result.inst[objects] * 37 + result.inst[objects] // INSTANCE_OFFSET) %
                                     len(colours)]
    return dict(
        image=result.image,
        parts=overlay_parts(result.image, result.parts, alpha=0.6),
        part_map=colorize_parts(np.clip(result.parts, 0, 8)),
        label=label_rgb,
        instances=instances)


def write_result_files(result: SynthesisResult, folder: Optional[str] = None) -> List[str]:
    """Lossless PNGs of a synthesis: the image (RGB), part ids, label ids and instance values
    (16-bit); returns their paths."""
    folder = folder or tempfile.mkdtemp(prefix='ipose_painter_')
    files = dict(
        synthesized=result.image, parts=result.parts, label=result.label, instances=result.inst.astype(np.uint16))
    paths = []
    for name, array in files.items():
        path = osp.join(folder, f'{name}.png')
        with open(path, 'wb') as f:
            f.write(encode_png(array))
        paths.append(path)
    return paths


def _digest(maps: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(maps, np.int64).tobytes()).hexdigest()


class PainterSession:
    """The model behind the painter and the calls the page makes.

    Args:
        config (str | Config): config (file) of an IPOSE model.
        checkpoint (str, optional): its checkpoint (MMEngine or converted official); None keeps random
            weights (tests, timing).
        device (str): 'cpu' or 'cuda'.
        size (tuple, optional): canvas (height, width); defaults to :func:`canvas_size`. Both must
            be multiples of 32 (the generator's six resolution levels).
        cfg_options (dict, optional): config overrides (e.g. support folders).
        model (nn.Module, optional): an already built model for ``config`` (tests).
        backend (str): who runs the networks, as in :class:`IPOSEInferencer` ('auto': OpenVINO where
            the package is installed, else eager PyTorch).
        precision (str, optional): generator precision, as in :class:`IPOSEInferencer` ('auto': bf16
            where the device runs it natively; None keeps the config's ``sample_precision``).

    A model that fails to load (e.g. a checkpoint that does not match the config) does not raise:
    ``load_error`` holds the message and every call raises it, so the page can show it.
    """

    def __init__(self,
                 config: Union[str, Config],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 size: Optional[Tuple[int, int]] = None,
                 cfg_options: Optional[dict] = None,
                 model=None,
                 backend: str = 'auto',
                 precision: Optional[str] = 'auto') -> None:
        self.cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
        if cfg_options:
            self.cfg.merge_from_dict(cfg_options)
        self.config = config if isinstance(config, str) else self.cfg.filename
        self.checkpoint = checkpoint
        self.table = class_table(self.cfg)
        self.size = tuple(int(s) for s in (size or canvas_size(self.cfg)))
        if any(s % 32 for s in self.size):
            raise ValueError(f'canvas size {self.size[0]}x{self.size[1]}: height and width must be multiples of 32.')
        self.lock = threading.Lock()
        self.inferencer: Optional[IPOSEInferencer] = None
        self.load_error: Optional[str] = None
        self._original: Dict[int, np.ndarray] = {}
        self._applied: Dict[int, str] = {}
        try:
            # built from the config by the inferencer when no model is given: a graph backend then frees the
            # eager generator's weights
            self.inferencer = IPOSEInferencer(
                self.cfg if model is None else model,
                checkpoint,
                device,
                part_categories=self.table.part_categories,
                backend=backend,
                precision=precision)
            bank = self.inferencer.support_bank
            for row, category in enumerate(bank.categories):
                self._original[int(category)] = bank.supports[row].argmax(1).cpu().numpy()
                self._applied[int(category)] = _digest(self._original[int(category)])
        except Exception as error:  # noqa: BLE001 (shown in the page, see the class docstring)
            self.load_error = (f'the model could not be loaded from {config} and {checkpoint}: '
                               f'{type(error).__name__}: {error}')

    # ---------------------------------------------------------------- model calls
    def _require_model(self) -> IPOSEInferencer:
        if self.inferencer is None:
            raise RuntimeError(self.load_error)
        return self.inferencer

    @property
    def support_categories(self) -> List[int]:
        return sorted(self._original)

    def supports_of(self, category: int, edits: Optional[Dict[int, np.ndarray]] = None) -> np.ndarray:
        """(k, 64, 64) part ids of a category's supports: the visitor's edit, else the original."""
        category = int(category)
        if category not in self._original:
            raise KeyError(f'part category {category} has no supports; the model has {self.support_categories}.')
        return (edits or {}).get(category, self._original[category])

    def _use_supports(self, edits: Optional[Dict[int, np.ndarray]]) -> None:
        """Put the visitor's supports into the shared bank (only the categories that differ)."""
        for category in self.support_categories:
            maps = self.supports_of(category, edits)
            digest = _digest(maps)
            if self._applied.get(category) != digest:
                self.inferencer.set_supports(category, maps)
                self._applied[category] = digest

    def synthesize(self,
                   label: np.ndarray,
                   inst: np.ndarray,
                   seed: Optional[int] = 0,
                   edits: Optional[Dict[int, np.ndarray]] = None,
                   noise: Optional[Tuple] = None) -> SynthesisResult:
        """One synthesis of an (H, W) label map and instance map (``noise`` reused when given)."""
        inferencer = self._require_model()
        with self.lock:
            self._use_supports(edits)
            return inferencer(label, inst, seed=seed, noise=noise)

    def redraw(self,
               result: SynthesisResult,
               kind: str,
               instance: Optional[int] = None,
               part: Optional[int] = None,
               seed: Optional[int] = None,
               edits: Optional[Dict[int, np.ndarray]] = None) -> SynthesisResult:
        """New noise for ``kind`` 'global', 'object' (``instance``) or 'part' (``part`` of ``instance``)."""
        inferencer = self._require_model()
        if kind == 'global':
            region = 'global'
        else:
            if not instance or int(instance) < INSTANCE_OFFSET:
                raise ValueError('select an object first: pick the "select" tool and click an object on the canvas '
                                 '(or paint one).')
            if not (result.inst == int(instance)).any():
                raise ValueError(f'object {instance} is not in the last synthesis; synthesize again first.')
            if kind == 'object':
                region = f'object:{int(instance)}'
            elif kind == 'part':
                if part is None:
                    raise ValueError('choose a part to redraw.')
                inside = result.parts[result.inst == int(instance)]
                if not (inside == int(part)).any():
                    present = sorted(set(np.unique(inside).tolist()) - {0})
                    raise ValueError(f'part {part} is not predicted inside object {instance} '
                                     f'(its parts here: {present or "none"}).')
                region = f'part:{int(instance)}:{int(part)}'
            else:
                raise ValueError(f"redraw: kind must be 'global', 'object' or 'part', got {kind!r}.")
        with self.lock:
            self._use_supports(edits)
            return inferencer.resample(result, region, seed=seed)

    # ---------------------------------------------------------------- inputs
    def instances(self, label: np.ndarray, inst: Optional[np.ndarray] = None) -> np.ndarray:
        """Instance map of a label map (see :func:`assign_instances`)."""
        return assign_instances(label, inst, self.table.object_classes)

    def validation_scene(self, index: int) -> Tuple[np.ndarray, np.ndarray, List[str]]:
        """Label and instance map of a validation scene of the config's dataset, at the canvas size."""
        from mmipose.registry import DATASETS
        dataset_cfg = dict(self.cfg.val_dataloader.dataset)
        dataset_cfg.update(lazy_init=True, pipeline=[])
        if 'generate' in inspect.signature(DATASETS.get(dataset_cfg['type']).__init__).parameters:
            dataset_cfg['generate'] = False
        try:
            dataset = DATASETS.build(dataset_cfg)
            dataset.full_init()
        except Exception as error:  # noqa: BLE001
            raise FileNotFoundError(f'no validation scenes: the dataset of {self.config} '
                                    f'({dataset_cfg.get("type")} at {dataset_cfg.get("data_root")}) could not be '
                                    f'read: {error}') from None
        if not 0 <= index < len(dataset):
            raise IndexError(f'validation scene {index}: the dataset has scenes 0..{len(dataset) - 1}.')
        info = dataset.get_data_info(index)
        label = read_index_map(info['label_path'], 'label')
        inst = read_index_map(info['inst_path'], 'inst') if info.get('inst_path') else None
        messages = [f'validation scene {index} ({osp.basename(info["label_path"])})']
        if label.shape != self.size:
            messages.append(f'resized (nearest) from {label.shape[0]}x{label.shape[1]} to the canvas '
                            f'{self.size[0]}x{self.size[1]}')
            label = resize_nearest(label, self.size)
            inst = None if inst is None else resize_nearest(inst, self.size)
        # stuff pixels of a Cityscapes-style map carry their label id: only object values count
        if inst is not None:
            inst = np.where(inst >= INSTANCE_OFFSET, inst, 0)
        return label, self.instances(label, inst), messages

    def support_upload(self, category: int, maps: Sequence[np.ndarray]) -> np.ndarray:
        """k uploaded support part maps for ``category`` -> (k, 64, 64) part ids (nearest-resized)."""
        expected = len(self.supports_of(category))
        if len(maps) != expected:
            raise ValueError(f'part category {category} takes {expected} support maps, got {len(maps)}.')
        out = []
        for i, part_map in enumerate(maps):
            part_map = np.asarray(part_map)
            if part_map.ndim != 2:
                raise ValueError(f'support map {i + 1}: expected a single-channel PNG of part ids 0..8, '
                                 f'got shape {part_map.shape}.')
            bad = np.unique(part_map[(part_map < 0) | (part_map > 8)])
            if bad.size:
                raise ValueError(f'support map {i + 1}: part ids {bad[:8].tolist()} outside 0..8.')
            out.append(resize_nearest(part_map.astype(np.int64), (64, 64)))
        return np.stack(out)


def support_picture(maps: np.ndarray, scale: int = 2) -> np.ndarray:
    """(k, h, w) part ids -> one (h*scale, k*(w*scale+4), 3) RGB strip of the coloured supports."""
    tiles = []
    for part_map in maps:
        tile = colorize_parts(np.clip(part_map, 0, 8))
        tile = np.repeat(np.repeat(tile, scale, 0), scale, 1)
        tiles += [tile, np.full((tile.shape[0], 4, 3), 255, np.uint8)]
    return np.concatenate(tiles[:-1], 1)


def replace_part(maps: np.ndarray, source: int, target: int) -> np.ndarray:
    """Support maps with part ``source`` drawn as part ``target`` (e.g. wheels -> chassis)."""
    edited = np.array(maps, copy=True)
    edited[edited == int(source)] = int(target)
    return edited
