"""mmipose reuses MMagic's registries so configs keep ``default_scope='mmagic'``.

Every mmipose component registers into these with a distinctive name, so a config
that sets ``custom_imports=dict(imports=['mmipose'])`` can build it by ``type=``.
"""
from mmagic.registry import (DATA_SAMPLERS, DATASETS, EVALUATORS, HOOKS, LOOPS, METRICS, MODEL_WRAPPERS, MODELS,
                             TRANSFORMS, VISBACKENDS, VISUALIZERS)

__all__ = [
    'DATA_SAMPLERS', 'DATASETS', 'EVALUATORS', 'HOOKS', 'LOOPS', 'METRICS', 'MODEL_WRAPPERS', 'MODELS', 'TRANSFORMS',
    'VISBACKENDS', 'VISUALIZERS'
]
