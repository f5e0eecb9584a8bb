"""mmipose registers into MMagic's registries under names no MMagic or MMSeg component uses."""
import mmagic.models  # noqa: F401  (register MMagic's own models first)
import mmseg.models  # noqa: F401
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg import registry as mmseg_registry

from mmipose import registry

REGISTRY_PAIRS = {
    'MODELS': mmseg_registry.MODELS,
    'DATASETS': mmseg_registry.DATASETS,
    'TRANSFORMS': mmseg_registry.TRANSFORMS,
    'METRICS': mmseg_registry.METRICS,
    'HOOKS': mmseg_registry.HOOKS,
}


def _mmipose_entries(reg):
    return {name: cls for name, cls in reg.module_dict.items() if getattr(cls, '__module__', '').startswith('mmipose')}


def test_mmipose_registers_into_mmagic_scope():
    assert registry.MODELS.scope == 'mmagic'
    names = {name for reg_name in REGISTRY_PAIRS for name in _mmipose_entries(getattr(registry, reg_name))}
    assert names, 'importing mmipose registered no component'


@pytest.mark.parametrize('reg_name', sorted(REGISTRY_PAIRS))
def test_no_name_shared_with_mmseg(reg_name):
    ours = set(_mmipose_entries(getattr(registry, reg_name)))
    theirs = set(REGISTRY_PAIRS[reg_name].module_dict)
    assert not ours & theirs, f'{reg_name}: names also used by MMSeg: {sorted(ours & theirs)}'


def test_build_from_config_dict_with_mmagic_default_scope():
    # The way a user's config builds a component: default_scope='mmagic', type=<mmipose name>.
    cfg = Config(
        dict(
            default_scope='mmagic',
            custom_imports=dict(imports=['mmipose'], allow_failed_imports=False),
            model=dict(type='GlobalGANLoss', loss_weight=2.0)))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        loss = registry.MODELS.build(cfg.model)
    assert type(loss).__module__.startswith('mmipose')
    assert type(loss).__name__ == 'GlobalGANLoss'
    assert loss.loss_weight == 2.0
