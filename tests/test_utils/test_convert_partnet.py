"""Official PartNet checkpoint (best_G.pth layout) -> mmipose, and loading either form."""
import os.path as osp

import pytest
import torch

from mmipose.models.partnet import PartNet
from mmipose.utils import convert_official_checkpoint
from mmipose.utils.official_checkpoint import (CheckpointConversionError, convert_partnet_state_dict,
                                               load_partnet_weights)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def official_partnet_shapes():
    """The 86 tensors of the authors' best_G.pth, written out by hand."""
    shapes = {}
    encoder = dict(
        enc0=(32, None, 7, 7),
        enc1=(64, 32, 4, 4),
        enc2=(64, 64, 4, 4),
        enc3=(96, 64, 4, 4),
        ms_enc0=(96, 96, 4, 4),
        ms_enc1=(96, 96, 4, 4))
    for name, in_channels in (('shape_encoder', 5), ('mask_encoder', 1)):
        for block, shape in encoder.items():
            shape = (shape[0], in_channels if shape[1] is None else shape[1]) + shape[2:]
            shapes[f'{name}.{block}.0.weight'] = shape
            shapes[f'{name}.{block}.0.bias'] = (shape[0], )
    for i, shape in enumerate([(288, 64, 4, 4), (64, 64, 4, 4), (64, 32, 4, 4)], start=1):
        shapes[f'decoder.dec{i}.0.weight'] = shape  # ConvTranspose layout (in, out, k, k)
        shapes[f'decoder.dec{i}.0.bias'] = (shape[1], )
    for i in range(3):
        for conv in ('query_conv', 'key_conv', 'value_conv'):
            shapes[f'catt{i}.{conv}.0.weight'] = (288, 288, 1, 1)
            shapes[f'catt{i}.{conv}.0.bias'] = (288, )
        shapes[f'catt{i}.multihead_attn.in_proj_weight'] = (864, 288)
        shapes[f'catt{i}.multihead_attn.in_proj_bias'] = (864, )
        shapes[f'catt{i}.multihead_attn.out_proj.weight'] = (288, 288)
        shapes[f'catt{i}.multihead_attn.out_proj.bias'] = (288, )
        for ln in ('ln1', 'ln2'):
            shapes[f'catt{i}.{ln}.weight'] = (288, )
            shapes[f'catt{i}.{ln}.bias'] = (288, )
        shapes[f'catt{i}.mlp.0.weight'] = (1152, 288)
        shapes[f'catt{i}.mlp.0.bias'] = (1152, )
        shapes[f'catt{i}.mlp.2.weight'] = (288, 1152)
        shapes[f'catt{i}.mlp.2.bias'] = (288, )
    shapes['conv_img.weight'] = (1, 32, 5, 5)
    shapes['conv_img.bias'] = (1, )
    return shapes


def official_state_dict(prefix='', seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {prefix + k: torch.randn(s, generator=gen) for k, s in official_partnet_shapes().items()}


def load_cli():
    return convert_official_checkpoint


def test_official_layout_has_86_tensors_and_converts_strictly():
    official = official_state_dict('module.')
    assert len(official) == 86
    assert sum(v.numel() for v in official.values()) == 5_133_825
    converted = convert_partnet_state_dict(official)
    net = PartNet()
    net.load_state_dict(converted, strict=True)
    for key, value in official.items():
        assert torch.equal(net.state_dict()[key[len('module.'):]], value)


def test_partnet_is_taken_out_of_a_generator_checkpoint():
    generator = {**official_state_dict('partnet.model.'), 'fc.weight': torch.zeros(3), 'conv_img.bias': torch.zeros(3)}
    converted = convert_partnet_state_dict(generator)
    assert set(converted) == set(official_partnet_shapes())


def test_errors_list_missing_unexpected_and_mismatched_keys():
    official = official_state_dict()
    del official['catt2.ln1.bias']
    official['catt0.mlp.0.weight'] = torch.zeros(1152, 287)
    official['extra.weight'] = torch.zeros(1)
    with pytest.raises(CheckpointConversionError) as error:
        convert_partnet_state_dict(official, name='best_G.pth')
    message = str(error.value)
    assert 'best_G.pth' in message and 'missing (1): catt2.ln1.bias' in message
    assert 'unexpected (1): extra.weight' in message
    assert 'catt0.mlp.0.weight: checkpoint (1152, 287) vs model (1152, 288)' in message


def test_cli_writes_mmengine_checkpoint_loadable_both_ways(tmp_path):
    official = official_state_dict(seed=3)
    source = str(tmp_path / 'best_G.pth')
    torch.save(official, source)
    out = str(tmp_path / 'converted' / 'partnet.pth')
    load_cli().main(['--partnet', source, '--out', out])
    checkpoint = torch.load(out, map_location='cpu', weights_only=True)
    assert checkpoint['meta']['converted_from']['partnet']['num_tensors'] == 86
    assert checkpoint['meta']['converted_from']['partnet']['file'] == 'best_G.pth'
    from_converted = load_partnet_weights(PartNet(), out)
    from_official = PartNet(checkpoint=source)
    for key, value in official.items():
        assert torch.equal(from_converted.state_dict()[key], value)
        assert torch.equal(from_official.state_dict()[key], value)


def test_missing_file_names_path_and_source(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'best_G.pth')
    with pytest.raises(
            FileNotFoundError, match=r'nowhere/best_G\.pth.*csyxwei/iPOSE README.*convert_official_checkpoint'):
        load_partnet_weights(PartNet(), missing)
