import glob
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmagic.engine.hooks import VisualizationHook
from mmagic.structures import DataSample
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmipose.engine.hooks.visualization_hook import IPOSESampleGridHook


class _TinyDataset(torch.utils.data.Dataset):
    metainfo = dict(palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0]])

    def __len__(self):
        return 6

    def __getitem__(self, i):
        label = torch.full((1, 4, 6), i % 3)
        return dict(inputs=dict(label=label), data_samples=DataSample(gt_img=torch.full((3, 4, 6), 7.0)))


class _StandInModel(BaseModel):
    """Stand-in for IPOSE: random fake image (so the seed matters), parts = label."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.modes = []

    def train_step(self, data, optim_wrapper):
        return dict(loss=0.0)

    def val_step(self, data):
        self.modes.append((self.training, data['inputs'].get('sample_model')))
        out = []
        for label, sample in zip(data['inputs']['label'], data['data_samples']):
            out.append(
                DataSample(fake_img=torch.rand(3, 4, 6) * 255, label=label, pred_parts=label, gt_img=sample.gt_img))
        return out

    def forward(self, *args, **kwargs):
        raise NotImplementedError


def test_hook_saves_grids_to_work_dir_and_backend(tmp_path):
    model = _StandInModel()
    # built by the Runner, after its visualizer (MMagic's VisualizationHook takes the current one)
    hook_cfg = dict(type='IPOSESampleGridHook', interval=2, num_samples=3, split='train', sample_model='ema', scale=2)
    runner = Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=_TinyDataset(),
            batch_size=2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=False, max_iters=3),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
        custom_hooks=[hook_cfg],
        visualizer=dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')], name='mmipose-test-grid'),
        default_hooks=dict(checkpoint=None, logger=None),
        log_level='WARNING',
        default_scope='mmagic')
    hook = next(h for h in runner.hooks if isinstance(h, IPOSESampleGridHook))
    assert isinstance(hook, VisualizationHook)
    runner.train()
    saved = sorted(glob.glob(osp.join(str(tmp_path), 'samples', '*.png')))
    assert [osp.basename(p) for p in saved] == ['iter_2.png', 'iter_3.png']
    backend = glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'vis_image', 'samples_*.png'))
    assert len(backend) == 2
    # the model was put in eval mode for sampling and restored; no EMA -> no sample_model key
    assert model.modes == [(False, None), (False, None)] and model.training
    # fixed seed: identical grids from the same weights
    assert np.array_equal(hook.make_grid(runner), hook.make_grid(runner))


def test_hook_validates_arguments():
    with pytest.raises(ValueError, match='split'):
        IPOSESampleGridHook(split='test')
    with pytest.raises(ValueError, match='interval'):
        IPOSESampleGridHook(interval=0)


def test_unbuilt_val_loader_is_built_without_a_collective(monkeypatch):
    """Only rank 0 saves grids: building the loader must not enter a collective (DDP hang)."""
    import types

    import mmengine.dataset.sampler as sampler_module

    def no_collective():
        raise AssertionError('sync_random_seed() is a broadcast all ranks must enter')

    monkeypatch.setattr(sampler_module, 'sync_random_seed', no_collective)
    runner = types.SimpleNamespace(
        _val_dataloader=dict(
            dataset=_TinyDataset(),
            batch_size=2,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate')),
        train_dataloader=None,
        build_dataloader=Runner.build_dataloader)
    dataset = IPOSESampleGridHook(split='val')._dataset(runner)
    assert isinstance(dataset, _TinyDataset)
