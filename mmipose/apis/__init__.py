from .inferencer import IPOSEInferencer, SynthesisResult, connected_instances
from .model_loading import init_model, load_trusted_checkpoint

__all__ = ['IPOSEInferencer', 'SynthesisResult', 'connected_instances', 'init_model', 'load_trusted_checkpoint']
