"""LoaderMetric: MMagic's evaluator protocol shared by ObjectFID and SegmentationMetric."""
import types

import torch.nn as nn

from mmipose.evaluation import ObjectFID, SegmentationMetric
from mmipose.evaluation.loader_metric import LoaderMetric


class _Network(nn.Module):

    def __init__(self):
        super().__init__()
        self.moved_to = []

    def to(self, device):
        self.moved_to.append(device)
        return self


class _CountMetric(LoaderMetric):

    def __init__(self, device=None):
        super().__init__()
        self.network = _Network()
        self.device = device

    def metric_network(self):
        return self.network

    def process(self, data_batch, data_samples):
        self.results.extend(data_samples)

    def compute_metrics(self, results):
        return dict(count=len(results))


def _model(device):
    model = types.SimpleNamespace(data_preprocessor=types.SimpleNamespace(device=device))
    return types.SimpleNamespace(module=model)  # a DDP-style wrapper


def test_prepare_moves_network_and_evaluate_pools_the_dataset():
    loader = types.SimpleNamespace(dataset=list(range(5)))
    metric = _CountMetric()
    metric.prepare(_model('model-device'), loader)
    assert metric.network.moved_to == ['model-device'] and metric.size == 5
    assert metric.get_metric_sampler(None, loader, [metric]) is loader
    metric.process(None, [1, 2, 3, 4, 5, 6])
    assert metric.evaluate() == dict(count=5)  # the dataset size, not the 6 results

    fixed = _CountMetric(device='fixed-device')
    fixed.prepare(_model('model-device'), loader)
    assert fixed.network.moved_to == ['fixed-device']


def test_object_fid_and_segmentation_metric_use_it():
    assert issubclass(ObjectFID, LoaderMetric) and issubclass(SegmentationMetric, LoaderMetric)
