"""Build the dataset of one split of a training config, as the Runner would (for the dataset tools)."""
from typing import Any, Optional

from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.utils import import_modules_from_strings

from mmipose.registry import DATASETS

SPLITS = ('train', 'val', 'test')


def build_split_dataset(cfg: Config, split: str = 'train', probe_objects: bool = True, **overrides: Any):
    """``cfg.<split>_dataloader.dataset`` built under the config's default scope and custom imports.

    Args:
        cfg (Config): A training config.
        split (str): 'train', 'val' or 'test'.
        probe_objects (bool): False turns off the build-time object probe of the scene datasets
            (``object_check_samples=0``), for a tool that scans every image itself.
        **overrides: Further dataset arguments (e.g. ``indices``).

    Returns:
        The built dataset.

    Raises:
        KeyError: the config has no such dataloader.
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    key = f'{split}_dataloader'
    if not cfg.get(key) or 'dataset' not in cfg[key]:
        raise KeyError(f'the config has no {key}.dataset')
    imports = cfg.get('custom_imports')
    if imports:
        import_modules_from_strings(**imports)
    import mmipose  # noqa: F401  (registers the datasets and transforms)
    scope = cfg.get('default_scope', 'mmagic')
    current = DefaultScope.get_current_instance()
    if current is None or current.scope_name != scope:
        init_default_scope(scope)
    dataset_cfg = dict(cfg[key]['dataset'])
    dataset_cfg.update(overrides)
    if not probe_objects and _accepts_object_probe(dataset_cfg.get('type')):
        dataset_cfg['object_check_samples'] = 0
    return DATASETS.build(dataset_cfg)


def _accepts_object_probe(dataset_type: Optional[str]) -> bool:
    from .semantic_base import IPOSESemanticDataset
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    return isinstance(cls, type) and issubclass(cls, IPOSESemanticDataset)
