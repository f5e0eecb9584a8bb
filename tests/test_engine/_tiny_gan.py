"""A tiny GAN-like stand-in (generator + discriminator, two optimizers, EMA) for engine tests.

Importable as a module (``custom_imports``) by configs that ``tools/train.py`` runs in a
subprocess; registers ``MMIPoseTinyGAN``, ``MMIPoseTinyVectors`` and ``MMIPoseStateDumpHook``.
The model is noise-free (no random sampling in the step), so runs are comparable exactly.
"""
import itertools
import os
import time

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel, ExponentialMovingAverage, is_model_wrapper
from mmengine.runner.checkpoint import get_state_dict
from torch.utils.data import Dataset

from mmipose.registry import DATASETS, HOOKS, MODELS


@DATASETS.register_module()
class MMIPoseTinyVectors(Dataset):
    """``length`` fixed samples ``x`` (4,) and ``real`` (4,); sample i depends only on i."""

    def __init__(self, length: int = 64, poison_index: int = -1):
        self.length = length
        self.poison_index = poison_index

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        g = torch.Generator().manual_seed(1000 + index)
        x = torch.randn(4, generator=g)
        if index == self.poison_index:
            x = x * float('nan')
        return dict(x=x, real=torch.randn(4, generator=g) * 0.5 + 1.0)


@MODELS.register_module()
class MMIPoseTinyGAN(BaseModel):
    """G: Linear(4,8)-ReLU-Linear(8,4) (optional BatchNorm1d without affine); D: spectral-norm Linear.

    ``train_step`` does a G step then a D step with the two wrappers of an ``OptimWrapperDict``
    and updates an EMA copy of G. ``sleep`` slows each step (kill tests); ``noise`` > 0 draws
    from torch's global RNG each step (determinism tests).
    """

    def __init__(self, use_bn: bool = False, sleep: float = 0.0, noise: float = 0.0):
        super().__init__()
        layers = [nn.Linear(4, 8)]
        if use_bn:
            layers.append(nn.BatchNorm1d(8, affine=False))
        layers += [nn.ReLU(), nn.Linear(8, 4)]
        self.generator = nn.Sequential(*layers)
        self.discriminator = nn.Sequential(nn.utils.spectral_norm(nn.Linear(4, 8)), nn.LeakyReLU(0.2), nn.Linear(8, 1))
        self.generator_ema = ExponentialMovingAverage(self.generator, momentum=0.1)
        self.sleep = sleep
        self.noise = noise  # std of Gaussian noise added to G's input (seeded-RNG tests)

    def _disc(self):
        return self.discriminator.module if is_model_wrapper(self.discriminator) else \
            self.discriminator

    def _gen(self):
        return self.generator.module if is_model_wrapper(self.generator) else self.generator

    def train_step(self, data, optim_wrapper):
        if self.sleep:
            time.sleep(self.sleep)
        data = self.data_preprocessor(data, True)
        x, real = data['x'], data['real']
        if self.noise:
            x = x + self.noise * torch.randn_like(x)
        g_wrapper, d_wrapper = optim_wrapper['generator'], optim_wrapper['discriminator']
        self._disc().requires_grad_(False)  # like IPOSE: D frozen during the G step
        with g_wrapper.optim_context(self.generator):
            fake = self.generator(x)
            loss_g = ((self._disc()(fake) - 1)**2).mean()
        g_wrapper.update_params(loss_g)
        self._disc().requires_grad_(True)
        with d_wrapper.optim_context(self.discriminator):
            with torch.no_grad():
                fake = self._gen()(x)
            loss_d = (self.discriminator(fake) ** 2).mean() + \
                ((self.discriminator(real) - 1) ** 2).mean()
        d_wrapper.update_params(loss_d)
        self.generator_ema.update_parameters(self._gen())
        return dict(loss_g=loss_g.detach(), loss_d=loss_d.detach())

    def forward(self, x=None, real=None, mode='tensor'):
        return self.generator(x)


@HOOKS.register_module()
class MMIPoseStateDumpHook(Hook):
    """Saves the runner's state (model, optimizers, hub, iteration) to ``work_dir/<file>``
    at ``before_train`` (i.e. right after resuming) and logs every iteration's losses."""

    priority = 'LOWEST'

    def __init__(self, filename: str = 'state_before_train.pth'):
        self.filename = filename
        self.losses = []

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save(
            dict(
                iter=runner.iter,
                state_dict=get_state_dict(model),
                optimizer=runner.optim_wrapper.state_dict(),
                hub_info=dict(runner.message_hub.runtime_info),
                rank=int(os.environ.get('RANK', 0))), os.path.join(runner.work_dir, self.filename))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append({k: float(v) for k, v in outputs.items()})

    def after_train(self, runner):
        rank = int(os.environ.get('RANK', 0))
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        torch.save(
            dict(losses=self.losses, state_dict=get_state_dict(model), iter=runner.iter),
            os.path.join(runner.work_dir, f'after_train_rank{rank}.pth'))


_RUN_IDS = itertools.count()


def tiny_gan_config(work_dir: str, max_iters: int = 4, batch_size: int = 2, interval: int = 2, **model_kwargs) -> dict:
    """A complete MMEngine config dict for the tiny GAN (mmagic scope, AtomicCheckpointHook)."""
    return dict(
        # Runners made in the same second would otherwise share one MessageHub (named by time).
        experiment_name=f'tiny_gan_{os.getpid()}_{next(_RUN_IDS)}',
        default_scope='mmagic',
        custom_imports=dict(imports=['mmipose', '_tiny_gan'], allow_failed_imports=False),
        work_dir=work_dir,
        model=dict(type='MMIPoseTinyGAN', **model_kwargs),
        train_dataloader=dict(
            batch_size=batch_size,
            num_workers=0,
            dataset=dict(type='MMIPoseTinyVectors', length=64),
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(
            constructor='MultiOptimWrapperConstructor',
            generator=dict(optimizer=dict(type='Adam', lr=0.01, betas=(0.5, 0.999))),
            discriminator=dict(optimizer=dict(type='Adam', lr=0.02, betas=(0.5, 0.999)))),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='AtomicCheckpointHook', interval=interval, by_epoch=False, max_keep_ckpts=2)),
        custom_hooks=[dict(type='MMIPoseStateDumpHook')],
        randomness=dict(seed=7, diff_rank_seed=True),
        model_wrapper_cfg=dict(
            type='MMSeparateDistributedDataParallel', broadcast_buffers=False, find_unused_parameters=False),
        env_cfg=dict(dist_cfg=dict(backend='nccl')),
        log_processor=dict(by_epoch=False),
        log_level='WARNING',
    )
