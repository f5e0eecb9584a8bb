"""Supports that lack some parts (as trained supports do): export parity, and every backend equals eager.

A part channel absent from a support map gives value tokens made of amplified float rounding (instance
norms of a constant map), which differ between PyTorch and a graph runtime; the parity check skips
them and the inferencer encodes the supports with PyTorch.
"""
import copy

import numpy as np
import pytest
import torch

from mmipose.apis import IPOSEInferencer
from mmipose.deploy.onnx_export import defined_value_tokens, export_sampling_graphs, parity_scene


def test_defined_value_tokens_marks_the_parts_present_in_each_shot():
    supports = torch.zeros(2, 3, 9, 8, 8)
    supports[0, 1, 4, 2, 2] = 1  # set 0, shot 1: part 4 present
    supports[1, :, 0] = 1  # set 1: only background, every shot
    defined = defined_value_tokens(supports, tokens_per_shot=5)
    expected = np.zeros((2, 9, 15), bool)
    for s in range(2):
        for p in range(9):
            for j in range(3):
                expected[s, p, j * 5:(j + 1) * 5] = bool(supports[s, j, p].any())
    np.testing.assert_array_equal(defined, expected)


@pytest.fixture(scope='module')
def sparse_model(toy_model):
    """The toy model with supports that hold only background, wheels (2) and chassis (5).

    Its PartNet convolutions get non-zero biases, as trained ones have: an empty channel then enters
    the first instance norm as a non-zero constant map, whose normalisation is rounding noise.
    """
    model = copy.deepcopy(toy_model)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.part_inferencer.partnet.modules():
            if isinstance(module, torch.nn.Conv2d) and module.bias is not None:
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.02)
    bank = model.part_inferencer.support_bank
    rng = np.random.default_rng(3)
    for category in bank.categories:
        maps = np.zeros((3, 64, 64), np.int64)
        maps[:, 8:56, 8:56] = 5
        maps[:, 40:56, 12:28] = 2
        maps += rng.integers(0, 2, maps.shape) * (maps > 0)  # ragged borders: 5 -> 6 and 2 -> 3 on some pixels
        bank.set_supports(int(category), torch.from_numpy(maps))
    return model


def test_sparse_supports_export_and_run_like_eager(sparse_model, tmp_path):
    parts = {int(k): int(v) for k, v in sparse_model.cfg.object_part_categories.items()}
    manifest = export_sampling_graphs(sparse_model, str(tmp_path), parts, parity_backends=['onnxruntime', 'openvino'])
    for backend, sizes in manifest['parity'].items():
        for diffs in sizes.values():
            assert diffs['undefined_value_tokens'] == pytest.approx(4 / 9)  # only parts 0, 2, 3, 5, 6 of 9 present
            assert diffs['support_encoding_max_abs'] <= 1e-4 and diffs['part_map_mismatches'] == 0
    label, inst = parity_scene(10, [6, 7, 8, 9], (64, 128), seed=1)
    expected = IPOSEInferencer(sparse_model, backend='pytorch')(label, inst, seed=0)
    eager = sparse_model.part_inferencer.support_bank.encoding(sparse_model.part_inferencer.partnet)
    for backend in ('onnxruntime', 'openvino'):
        inferencer = IPOSEInferencer(sparse_model, backend=backend, deploy_dir=str(tmp_path))
        result = inferencer(label, inst, seed=0)
        # fp32 rounding of the PartNet graph may flip a near-tie argmax (1 of 8192 pixels seen)
        assert (result.parts != expected.parts).mean() <= 1e-3
        assert np.abs(result.image.astype(int) - expected.image).max() <= 1
        # the supports are encoded by the eager PartNet: bit for bit its encoding, undefined tokens included
        for graph_array, tensor in zip(inferencer.graphs._support_encoding(), (*eager.keys, *eager.values)):
            np.testing.assert_array_equal(graph_array, tensor.numpy())
