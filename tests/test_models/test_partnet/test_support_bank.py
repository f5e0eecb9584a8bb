"""SupportBank: folder loading, validation errors, lookup, caching and editing."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from mmipose.models.partnet import PartNet, SupportBank
from mmipose.models.partnet.reference_tables import REFERENCE_CATEGORY_FOLDERS
from mmipose.registry import MODELS


def write_map(path, array, mode='L'):
    Image.fromarray(np.asarray(array, dtype=np.uint8), mode=mode).save(path)


def make_folder(root, name, maps, prefix='s'):
    folder = osp.join(root, name)
    import os
    os.makedirs(folder, exist_ok=True)
    for i, m in enumerate(maps):
        write_map(osp.join(folder, f'{prefix}{i}_part.png'), m)
    return folder


def stripes(value, size=32):
    m = np.zeros((size, size), np.uint8)
    m[4:-4, 4:-4] = value
    m[4:10, 4:-4] = 1
    return m


@pytest.fixture
def root(tmp_path):
    make_folder(str(tmp_path), '26', [stripes(2), stripes(3), stripes(4), stripes(5)])
    make_folder(str(tmp_path), '24', [stripes(6), stripes(7), stripes(8)])
    make_folder(str(tmp_path), '36', [stripes(2), stripes(3), stripes(3)])
    return str(tmp_path)


def test_loads_first_k_sorted_files_resized_and_merged(root):
    bank = MODELS.build(
        dict(
            type='SupportBank',
            root=root,
            categories=[7, 25, 36],
            num_supports=3,
            category_folders=REFERENCE_CATEGORY_FOLDERS,
            part_merges='reference'))
    assert bank.supports.shape == (3, 3, 9, 64, 64)
    assert torch.equal(bank.supports.sum(2), torch.ones(3, 3, 64, 64))  # one-hot
    index = bank.supports.argmax(2)
    # car 7 -> folder 26: sorted files s0, s1, s2 (s3 unused) with values 2, 3, 4; nearest 32 -> 64
    expected = F.interpolate(torch.from_numpy(stripes(2)).float()[None, None], (64, 64), mode='nearest')[0, 0]
    assert torch.equal(index[0, 0], expected.long())
    assert [int(index[0, j].max()) for j in range(3)] == [2, 3, 4]
    # rider 25 -> folder 24
    assert [int(index[1, j].max()) for j in range(3)] == [6, 7, 8]
    # washer 36: parts 2 and 3 merged into 1
    assert set(index[2].unique().tolist()) == {0, 1}
    assert bank.state_dict() == {}  # supports are data, not checkpoint content


def test_named_reference_tables(root):
    bank = SupportBank(
        root,
        categories='cityscapes',
        category_folders='reference',
        maps={c: np.stack([stripes(1)] * 3)
              for c in (26, 27, 28, 31, 32, 33)})  # 24 and 25 (-> '24') from files
    assert bank.categories == [24, 25, 26, 27, 28, 31, 32, 33]
    assert int(bank.supports[1].argmax(1).max()) == 8  # rider uses the person folder
    with pytest.raises(KeyError, match=r"category_folders='nope' is not a known table"):
        SupportBank(root, categories=[24], category_folders='nope')


def test_index_of(root):
    bank = SupportBank(root, categories=[26, 24], num_supports=3)
    assert bank.index_of(torch.tensor([24, 26, 24])).tolist() == [1, 0, 1]
    assert bank.index_of([26]).tolist() == [0]
    with pytest.raises(KeyError, match=r'\[5, 99\]'):
        bank.index_of(torch.tensor([26, 99, 5]))


def test_missing_folder_names_category_and_folder(root):
    with pytest.raises(FileNotFoundError, match=r'support folder .*13 of part category 40'):
        SupportBank(root, categories=[26, 40], category_folders={40: '13'})


def test_too_few_files(root):
    with pytest.raises(FileNotFoundError, match=r'part category 24 needs 4 .* found 3'):
        SupportBank(root, categories=[24], num_supports=4)


def test_rgb_png_is_rejected(root):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(osp.join(root, '24', 'a_part.png'))
    with pytest.raises(ValueError, match=r'a_part\.png must be a single-channel PNG.*RGB'):
        SupportBank(root, categories=[24])


def test_out_of_range_value_is_rejected(root):
    write_map(osp.join(root, '24', 'a_part.png'), stripes(9))
    with pytest.raises(ValueError, match=r'a_part\.png holds values \[9\]'):
        SupportBank(root, categories=[24])


def test_suffix_filters_files(root):
    write_map(osp.join(root, '24', 'a_label.png'), stripes(1) > 0)
    bank = SupportBank(root, categories=[24], suffix='part.png')
    assert int(bank.supports.argmax(2)[0, 0].max()) == 6


def test_encoding_is_cached_and_refreshed_when_weights_change():
    bank = SupportBank.from_arrays({26: np.stack([stripes(2), stripes(3)])})
    net = PartNet().eval()
    net.requires_grad_(False)
    first = bank.encoding(net)
    assert bank.encoding(net) is first and bank.num_encodings == 1
    with torch.no_grad():
        net.catt1.key_conv[0].bias.add_(0.5)  # in place, e.g. an optimiser step
    second = bank.encoding(net)
    assert second is not first and bank.num_encodings == 2
    assert not torch.equal(second.keys[1], first.keys[1])
    net.load_state_dict(PartNet().state_dict())
    assert bank.encoding(net) is not second and bank.num_encodings == 3
    # the cached encoding equals a fresh one
    with torch.no_grad():
        fresh = net.encode_supports(bank.supports)
    torch.testing.assert_close(bank.encoding(net).values[2], fresh.values[2])
    assert bank.num_encodings == 3


def test_trainable_partnet_reencodes_with_gradients():
    bank = SupportBank.from_arrays({26: np.stack([stripes(2)])})
    net = PartNet().train()
    first, second = bank.encoding(net), bank.encoding(net)
    assert first is not second and first.keys[0].requires_grad
    assert bank.num_encodings == 0  # differentiable encodings are never cached
    with torch.no_grad():
        assert bank.encoding(net) is bank.encoding(net)


def test_set_supports_replaces_and_adds_categories():
    bank = SupportBank.from_arrays({26: np.stack([stripes(2), stripes(3)])})
    net = PartNet().eval()
    with torch.no_grad():
        before = bank.encoding(net)
        bank.set_supports(26, np.stack([stripes(5, 64), stripes(5, 64)]))
        after = bank.encoding(net)
    assert after is not before and int(bank.supports.argmax(2).max()) == 5
    bank.set_supports(40, np.stack([stripes(4), stripes(4)]))
    assert bank.categories == [26, 40] and bank.index_of([40]).tolist() == [1]
    assert bank.supports.shape[0] == 2
    with pytest.raises(ValueError, match=r'must be \(2, H, W\)'):
        bank.set_supports(26, stripes(2)[None])
    with pytest.raises(ValueError, match=r'values \[12\]'):
        bank.set_supports(26, np.full((2, 8, 8), 12))
