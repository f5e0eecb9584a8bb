from .inferencer import IPOSEInferencer, SynthesisResult
from .model_loading import build_sampling_model, init_model, load_checkpoint_file, use_partnet_weights_from_checkpoint

__all__ = [
    'IPOSEInferencer', 'SynthesisResult', 'build_sampling_model', 'init_model', 'load_checkpoint_file',
    'use_partnet_weights_from_checkpoint'
]
