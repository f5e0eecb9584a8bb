from .inferencer import IPOSEInferencer, SynthesisResult, connected_instances
from .model_loading import init_model, load_checkpoint_file

__all__ = ['IPOSEInferencer', 'SynthesisResult', 'connected_instances', 'init_model', 'load_checkpoint_file']
