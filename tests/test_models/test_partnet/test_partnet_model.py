"""PartNetModel: loss equals a per-object transcription of the reference step, pools, predict, and a
tiny end-to-end run of tools/train.py on a synthetic part dataset."""
import json
import os
import os.path as osp
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from mmipose.apis.runner_cli import parse_train_args, run_train
from mmipose.models.partnet import PartNet, part_index_to_onehot
from mmipose.models.partnet.partnet_model import export_partnet_weights, splice_shot
from mmipose.registry import MODELS

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))


def _part_map(kind: int, jitter: int) -> np.ndarray:
    """A 64x64 object with 2-3 parts; ``kind`` changes the layout."""
    part = np.zeros((64, 64), np.uint8)
    top = 8 + jitter
    part[top:56, 16:48] = 1
    part[top:top + 12, 16:48] = 2
    if kind % 2:
        part[44:56, 16:30] = 3
    return part


def write_part_dataset(root: str, categories=(8, 24, 26), num_train=4, num_val=2, num_supports=2):
    """Synthetic part dataset in the builder's layout plus SupportBank folders under ``root/supports``."""
    for c_index, category in enumerate(categories):
        for split, count in (('train', num_train), ('val', num_val)):
            folder = osp.join(root, str(category), split)
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                part = _part_map(c_index + i, i)
                Image.fromarray((part > 0).astype(np.uint8)).save(osp.join(folder, f's{i:02d}_label.png'))
                Image.fromarray(part).save(osp.join(folder, f's{i:02d}_part.png'))
        support_folder = osp.join(root, 'supports', str(category))
        os.makedirs(support_folder, exist_ok=True)
        for j in range(num_supports):
            Image.fromarray(_part_map(c_index + j + 1, 2 * j)).save(osp.join(support_folder, f'{j:02d}_part.png'))


def _model(root, k=2, p_random=0.0, pool_size=101, layers=1):
    return MODELS.build(
        dict(
            type='PartNetModel',
            partnet=dict(type='PartNet', num_attention_layers=layers),
            support_bank=dict(
                type='SupportBank', root=osp.join(root, 'supports'), categories=[8, 24, 26], num_supports=k),
            pool_root=root,
            pool_size=pool_size,
            p_random=p_random))


def _inputs(categories):
    parts = torch.stack([torch.from_numpy(_part_map(i, i).astype(np.int64)) for i in range(len(categories))])
    return dict(shape=(parts > 0).float()[:, None], part=parts, category=torch.tensor(categories))


def test_splice_shot_equals_encoding_spliced_maps():
    torch.manual_seed(0)
    partnet = PartNet(num_attention_layers=2).eval()
    supports = part_index_to_onehot(torch.randint(0, 9, (2, 3, 64, 64)))
    gt = part_index_to_onehot(torch.randint(0, 9, (4, 64, 64)))
    rows = torch.tensor([1, 0, 1, 1])
    with torch.no_grad():
        encoding = partnet.encode_supports(supports)
        gt_encoding = partnet.encode_supports(gt[:, None])
        for shot in range(3):
            spliced = supports[rows].clone()
            spliced[:, shot] = gt
            direct = partnet.encode_supports(spliced)
            fast = splice_shot(encoding, rows, gt_encoding, shot)
            for a, b in zip(fast.keys + fast.values, direct.keys + direct.values):
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_loss_matches_per_object_reference(tmp_path):
    """Fixed supports: the batched loss equals building every object's supports separately."""
    write_part_dataset(str(tmp_path))
    model = _model(str(tmp_path), k=3 - 1)
    model.num_shots = 2
    inputs = _inputs([26, 24, 26])
    random.seed(3)
    torch.manual_seed(3)
    losses = model.loss(inputs)

    # independent transcription of generator_partsyn.forward + models_partsyn losses
    random.seed(3)
    torch.manual_seed(3)
    random.random()  # the fixed/random coin (p_random = 0 -> fixed)
    perm = torch.randperm(9)
    bank = model.support_bank
    supports = bank.supports[bank.index_of(inputs['category'])]  # (N, k, 9, H, W)
    shapes = (supports.argmax(2, keepdim=True) > 0).float()
    gt = part_index_to_onehot(inputs['part'])
    gt_shape = (gt.argmax(1, keepdim=True) > 0).float()
    gt, supports = gt[:, perm], supports[:, :, perm]
    shot = random.sample(range(model.num_shots - 1), 1)[0]
    rec_supports, rec_shapes = supports.clone(), shapes.clone()
    rec_supports[:, shot], rec_shapes[:, shot] = gt, gt_shape
    index = torch.arange(3)
    _, syn = model.partnet(inputs['shape'], index, model.partnet.encode_supports(supports, shapes))
    _, rec = model.partnet(inputs['shape'], index, model.partnet.encode_supports(rec_supports, rec_shapes))
    target = gt.argmax(1)
    expected = dict(
        loss_bce_syn=F.binary_cross_entropy(torch.sigmoid(syn), gt),
        loss_bce_rec=F.binary_cross_entropy(torch.sigmoid(rec), gt),
        loss_ce_syn=F.cross_entropy(syn, target),
        loss_ce_rec=F.cross_entropy(rec, target))
    assert set(losses) == set(expected)
    for key in expected:
        torch.testing.assert_close(losses[key], expected[key], rtol=1e-4, atol=1e-5)
    total = sum(losses.values())
    total.backward()
    assert model.partnet.conv_img.weight.grad.abs().sum() > 0


def test_pools_sorted_filtered_and_random_draws(tmp_path):
    write_part_dataset(str(tmp_path), num_train=5)
    # an extra training map with a different number of labels than support 0 is left out
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / '26/train/zz_odd_part.png')
    model = _model(str(tmp_path), pool_size=5)
    pool = model.pools[26]
    torch.testing.assert_close(pool[:2], model.support_bank.supports[2].argmax(1))
    wanted = len(torch.unique(pool[0]))
    names = sorted(f for f in os.listdir(tmp_path / '26/train') if f.endswith('part.png'))
    kept = [n for n in names if len(np.unique(np.array(Image.open(tmp_path / '26/train' / n)))) == wanted][:3]
    assert len(kept) >= 2 and 'zz_odd_part.png' not in kept
    assert pool.shape == (2 + len(kept), 64, 64)  # 2 fixed + sorted training maps with as many labels
    for i, name in enumerate(kept):
        np.testing.assert_array_equal(pool[2 + i].numpy(), np.array(Image.open(tmp_path / '26/train' / name)))
    model.p_random = 1.0
    random.seed(0)
    draws = model._draw_supports([26, 24], 'cpu')
    assert draws.shape == (2, 2, 64, 64)
    for maps, category in zip(draws, [26, 24]):
        for m in maps:
            assert any(torch.equal(m, p) for p in model.pools[category])


def test_predict_uses_fixed_supports(tmp_path):
    write_part_dataset(str(tmp_path))
    model = _model(str(tmp_path)).eval()
    inputs = _inputs([8, 24])
    with torch.no_grad():
        outputs = model(inputs, mode='predict')
        rows = model.support_bank.index_of(inputs['category'])
        _, logits = model.partnet(inputs['shape'], rows, model.partnet.encode_supports(model.support_bank.supports))
    assert [o['category'] for o in outputs] == [8, 24]
    for o, lg, gt in zip(outputs, logits, inputs['part']):
        assert torch.equal(o['pred_parts'], lg.argmax(0))
        assert torch.equal(o['gt_parts'], gt)
    with pytest.raises(ValueError, match='unknown mode'):
        model(inputs, mode='bad')


def test_train_tool_end_to_end(tmp_path):
    """tools/train.py main() on the tiny config: 4 iterations, validation with PartAccuracy, best ckpt."""
    data = str(tmp_path / 'data')
    write_part_dataset(data)
    work_dir = str(tmp_path / 'work')
    run_train(
        parse_train_args([
            osp.join(ROOT, 'tests/data/configs/partnet_1xb2-4iters_synthetic-64x64.py'), '--work-dir', work_dir,
            '--cfg-options', f'train_dataloader.dataset.data_root={data}', f'val_dataloader.dataset.data_root={data}',
            f'test_dataloader.dataset.data_root={data}', f'model.support_bank.root={data}/supports',
            f'model.pool_root={data}'
        ]))
    files = os.listdir(work_dir)
    assert any(f.startswith('best_PartAccuracy_basis_acc') for f in files), files
    scalars = [osp.join(dp, f) for dp, _, fs in os.walk(work_dir) for f in fs if f == 'scalars.json']
    records = [json.loads(line) for line in open(scalars[0])]
    val = [r for r in records if 'PartAccuracy/basis_acc' in r]
    assert val and 0 <= val[-1]['PartAccuracy/basis_acc'] <= 100 and 'PartAccuracy/novel_acc' in val[-1]
    assert any('loss_ce_rec' in r for r in records)
    # the trained PartNet exports to a file PartNet(checkpoint=...) loads (strict)
    best = [f for f in files if f.startswith('best_')][0]
    weights = export_partnet_weights(osp.join(work_dir, best), str(tmp_path / 'partnet.pth'))
    loaded = PartNet(num_attention_layers=1)
    loaded.load_state_dict(weights, strict=True)
    for key, value in torch.load(str(tmp_path / 'partnet.pth'), weights_only=True)['state_dict'].items():
        torch.testing.assert_close(value, loaded.state_dict()[key])
