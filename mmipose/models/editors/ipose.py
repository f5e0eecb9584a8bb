"""IPOSE: the part-aware semantic image synthesis GAN (training step, sampling, EMA)."""
from copy import deepcopy
from typing import Dict, Iterable, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmagic.models.base_models import BaseGAN
from mmagic.models.utils import set_requires_grad
from mmagic.structures import DataSample
from mmengine import MessageHub
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import Tensor

from mmipose.registry import MODELS
from mmipose.utils.precision import autocast, check_precision

from ..channel_argmax import channel_argmax
from ..losses.ipose_losses import IPOSELosses
from .ipose_inputs import check_instance_map, label_to_onehot, objects_from_samples

ModelType = Union[dict, nn.Module]


def _unwrap(module: nn.Module) -> nn.Module:
    return module.module if is_model_wrapper(module) else module


@torch.no_grad()
def _power_iterations(module: nn.Module, steps: int) -> None:
    """Advance the ``u``/``v`` estimates of every spectral norm in ``module`` by ``steps``.

    A spectral-norm forward in training mode runs one power iteration; its result does not
    depend on the input, so this leaves the buffers as ``steps`` more forwards would.
    """
    from torch.nn.utils.spectral_norm import SpectralNorm
    for sub in module.modules():
        for hook in sub._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm):
                for _ in range(steps):
                    hook.compute_weight(sub, do_power_iteration=True)


@MODELS.register_module()
class IPOSE(BaseGAN):
    """iPOSE (CVPR 2023): OASIS-style semantic image synthesis guided by inferred part maps.

    One training iteration follows the reference (``train_ipose.py``), **G step then D step**
    (MMagic's BaseGAN does D then G, so :meth:`train_step` is overridden). ``BaseGAN`` is kept
    for what it gives unchanged (EMA generator from ``ema_config``, ``ema_start``,
    ``sample_model`` handling, val/test steps); :meth:`train_generator` and
    :meth:`train_discriminator` keep its signature ``(inputs, data_samples,
    optimizer_wrapper)``. Its ``gan_loss`` scheme is not used: the losses are ``self.losses``
    (:class:`IPOSELosses`), so :meth:`gen_loss` / :meth:`disc_loss` raise.

    1. label -> one-hot (B,C,H,W); the frozen ``part_inferencer`` turns the instance map and the
       object table into part features (B,288,H,W) and part logits (B,9,H,W). This is computed
       **once per step** and reused by both generator forwards: PartNet is frozen and
       deterministic, so this equals the reference, which reruns it for the D step. The
       results travel in ``inputs`` (keys ``onehot``, ``part_features``, ``part_logits``,
       ``objects``); either step computes them itself when they are absent.
    2. G step: ``fake = G(onehot, parts)``; loss = N+1 (real target, class-balanced) on
       ``D(fake)[0]`` + ``lambda_global`` * hinge-G on ``D(fake)[1]`` + ``lambda_style`` *
       CLIP style loss (whole image or object crops, chosen per global step).
    3. D step: a fake **regenerated after the G update** under no_grad (new noise);
       N+1 fake + N+1 real + global hinge (real and fake) + ``lambda_labelmix`` * LabelMix.
       With ``batch_d_passes`` the fake, real and LabelMix images go through D in one call
       (D has no batch-dependent layer); see :meth:`train_discriminator` for the one
       numerical difference (spectral norm).
    4. EMA update of the generator (all state entries, buffers included, like the reference).

    Sampling (:meth:`forward`, ``val_step``, ``test_step``) returns one ``DataSample`` per image
    with ``fake_img`` (3,H,W) BGR in [0,255], ``pred_parts`` (1,H,W) long (argmax part index,
    0 = no object) and ``label`` (1,H,W) long; ``'ema/orig'`` adds ``ema.fake_img`` and
    ``orig.fake_img``. ``inputs`` may carry ``z`` (B,z_dim) and ``z_part`` (B,31,h0,w0) for
    deterministic synthesis.

    Args:
        generator (dict | nn.Module): ``PSMGenerator`` config or module.
        discriminator (dict | nn.Module): ``OASISDiscriminator`` config or module.
        part_inferencer (dict | nn.Module | None): ``ObjectPartInferencer`` config or module;
            frozen here (``requires_grad=False``). None: no part input (the OASIS baseline, whose
            generator uses ``part_injection='none'``).
        num_classes (int): Semantic channels C (``semantic_nc``, don't-care included).
        data_preprocessor (dict, optional): MMagic ``DataPreprocessor`` config. Defaults to
            ``non_image_keys=['label','inst','z','z_part']``, ``data_keys=['gt_img']``,
            ``output_channel_order='RGB'``.
        ema_config (dict, optional): MMagic ``ExponentialMovingAverage`` config
            (``momentum = 1 - decay``).
        loss_config (dict, optional): See :class:`IPOSELosses`.
        sample_precision (str): 'fp32' (default), 'bf16' or 'fp16' autocast of the generator
            when sampling (:meth:`forward`); part inference stays float32 (part ids unchanged)
            and images are returned as float32.
        channels_last (bool): Store every 4-D weight channels-last (NHWC), which oneDNN and
            cuDNN convolutions prefer, above all in bf16/fp16. Same maths, other kernels.
        batch_d_passes (bool): One discriminator call on the concatenated fake, real and
            LabelMix images in the D step instead of three (False: the reference's three calls).
    """

    def __init__(self,
                 generator: ModelType,
                 discriminator: ModelType,
                 part_inferencer: Optional[ModelType],
                 num_classes: int,
                 data_preprocessor: Optional[dict] = None,
                 ema_config: Optional[dict] = None,
                 loss_config: Optional[dict] = None,
                 sample_precision: str = 'fp32',
                 channels_last: bool = False,
                 batch_d_passes: bool = False):
        if data_preprocessor is None:
            data_preprocessor = dict(
                type='DataPreprocessor',
                non_image_keys=['label', 'inst', 'z', 'z_part'],
                data_keys=['gt_img'],
                output_channel_order='RGB')
        if isinstance(data_preprocessor, dict):
            # MMagic's registry, so this also works outside a runner's default scope.
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            generator=generator,
            discriminator=discriminator,
            data_preprocessor=data_preprocessor,
            ema_config=ema_config,
            loss_config=loss_config)
        self.num_classes = num_classes
        if isinstance(part_inferencer, dict):
            part_inferencer = MODELS.build(part_inferencer)
        self.part_inferencer = part_inferencer
        if self.part_inferencer is not None:
            # Frozen: DDP (find_unused_parameters=False) then only moves it to the device.
            self.part_inferencer.requires_grad_(False)
            self.part_inferencer.eval()
        self.sample_precision = check_precision(sample_precision, 'IPOSE sample_precision')
        self.batch_d_passes = bool(batch_d_passes)
        if channels_last:
            self.set_memory_format(torch.channels_last)

    def set_memory_format(self, memory_format: torch.memory_format) -> None:
        """Store the 4-D weights of the GAN networks (G, EMA G, D) in ``memory_format``.

        ``Module.to`` keeps a tensor's memory format, so later device moves, checkpoint loads
        (``copy_``) and EMA copies keep it. PartNet (a small share of the time) stays NCHW.
        """
        for name in ('generator', 'generator_ema', 'discriminator'):
            module = getattr(self, name, None)
            if module is not None:
                module.to(memory_format=memory_format)

    # ------------------------------------------------------------------ setup
    def _init_loss(self, loss_config: Optional[dict] = None) -> None:
        """Build the iPOSE losses (replaces BaseGAN's gan_loss / auxiliary-loss scheme)."""
        self.loss_config = deepcopy(loss_config) if loss_config else dict()
        self.gan_loss = None
        self.gen_auxiliary_losses = None
        self.disc_auxiliary_losses = None
        self.losses = IPOSELosses(**self.loss_config)

    def gen_loss(self, *args, **kwargs):
        raise NotImplementedError('IPOSE: the generator losses are self.losses.generator_losses '
                                  '(IPOSELosses), not BaseGAN.gen_loss.')

    def disc_loss(self, *args, **kwargs):
        raise NotImplementedError('IPOSE: the discriminator losses are '
                                  'self.losses.discriminator_losses (IPOSELosses), not '
                                  'BaseGAN.disc_loss.')

    def train(self, mode: bool = True) -> 'IPOSE':
        super().train(mode)
        if self.part_inferencer is not None:
            self.part_inferencer.eval()  # frozen, never trained
        return self

    # ------------------------------------------------------------------ inputs
    def prepare_conditions(self,
                           inputs: dict,
                           data_samples=None) -> Tuple[Tensor, Optional[Tensor], Optional[Tensor], List[Tensor]]:
        """Label one-hot, part features/logits and object tables for a preprocessed batch.

        Args:
            inputs (dict): ``label`` (B,1,H,W) integer, optional ``inst`` (B,1,H,W).
            data_samples: Batched ``DataSample`` with metainfo ``objects`` (list of (K_b,8)).

        Returns:
            tuple: onehot (B,C,H,W) float, part_features (B,288,H,W) or None,
            part_logits (B,9,H,W) or None, objects (list of B (K_b,8) int64 CPU tensors).
        """
        if 'label' not in inputs:
            raise KeyError("IPOSE: inputs must contain 'label' (B,1,H,W); got keys "
                           f'{sorted(inputs)}')
        label = inputs['label']
        if label.dim() == 3:
            label = label.unsqueeze(1)
        onehot = label_to_onehot(label, self.num_classes)
        # Object tables stay on the CPU: crop geometry is planned on the host (no device syncs).
        objects = objects_from_samples(data_samples, label.shape[0], torch.device('cpu'))
        if self.part_inferencer is None:
            return onehot, None, None, objects
        inst = check_instance_map(inputs.get('inst'), label)
        # the losses see the objects that get parts
        objects = self.part_inferencer.drop_unsupported_objects(objects)
        with torch.no_grad():
            part_features, part_logits = self.part_inferencer(inst, objects)
        return onehot, part_features, part_logits, objects

    # ------------------------------------------------------------------ training
    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict) -> Dict[str, float]:
        """One iPOSE iteration: G step, then D step on a regenerated fake, then EMA.

        Args:
            data (dict): A batch from the dataloader (before preprocessing).
            optim_wrapper (OptimWrapperDict): With ``generator`` and ``discriminator`` entries.

        Returns:
            dict[str, float]: ``loss_g_*`` and ``loss_d_*`` values.
        """
        curr_iter = MessageHub.get_current_instance().get_info('iter') or 0
        data = self.data_preprocessor(data, True)
        inputs, data_samples = data['inputs'], data['data_samples']
        inputs = self._with_conditions(inputs, data_samples)

        g_wrapper: OptimWrapper = optim_wrapper['generator']
        d_wrapper: OptimWrapper = optim_wrapper['discriminator']

        set_requires_grad(self.discriminator, False)
        with g_wrapper.optim_context(self.generator):
            log_vars = self.train_generator(inputs, data_samples, g_wrapper)
        set_requires_grad(self.discriminator, True)

        with d_wrapper.optim_context(self.discriminator):
            log_vars.update(self.train_discriminator(inputs, data_samples, d_wrapper))

        # BaseGAN's EMA update, written out: MMagic offers it only inside BaseGAN.train_step, whose
        # step order (D steps before the G step) is not iPOSE's
        if self.with_ema_gen and g_wrapper.should_update():
            generator = _unwrap(self.generator)
            if curr_iter + 1 >= self.ema_start:
                self.generator_ema.update_parameters(generator)
                if not self.generator_ema.update_buffers:
                    self.generator_ema.sync_buffers(generator)
            else:
                self.generator_ema.sync_parameters(generator)
        return {k: float(v) for k, v in log_vars.items()}

    def _with_conditions(self, inputs: dict, data_samples) -> dict:
        """``inputs`` plus ``onehot``, ``part_features``, ``part_logits`` and ``objects``."""
        if 'onehot' in inputs:
            return inputs
        onehot, part_features, part_logits, objects = self.prepare_conditions(inputs, data_samples)
        return dict(inputs, onehot=onehot, part_features=part_features, part_logits=part_logits, objects=objects)

    def train_generator(self, inputs: dict, data_samples, optimizer_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """G step (reference ``losses_G``); returns detached log values.

        Args:
            inputs (dict): Preprocessed inputs: ``img`` (B,3,H,W) in [-1,1], ``label``,
                ``inst``; the conditions of :meth:`_with_conditions` when already computed.
            data_samples: Batched ``DataSample`` (metainfo ``objects``).
            optimizer_wrapper (OptimWrapper): The generator's wrapper.
        """
        curr_iter = MessageHub.get_current_instance().get_info('iter') or 0
        inputs = self._with_conditions(inputs, data_samples)
        onehot = inputs['onehot']
        fake = self.generator(onehot, inputs['part_features'], inputs['part_logits'])
        # D's parameters are frozen for this step; its forward needs no DDP gradient sync.
        seg_logits, global_logits = _unwrap(self.discriminator)(fake)
        losses = self.losses.generator_losses(seg_logits, global_logits, onehot, fake, inputs['img'], inputs['objects'],
                                              curr_iter)
        loss, log_vars = self.parse_losses(losses)
        optimizer_wrapper.update_params(loss)
        log_vars['loss_g'] = log_vars.pop('loss')
        return {k: v.detach() for k, v in log_vars.items()}

    def train_discriminator(self, inputs: dict, data_samples, optimizer_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """D step (reference ``losses_D``): fake regenerated with the updated G, new noise.

        With ``batch_d_passes`` the fake, real and LabelMix images share one D call. D has no
        batch-dependent layer, but its spectral norms run one power iteration per call in
        training mode: the reference's real and LabelMix passes use the weight estimate of
        iterations 2 and 3, the batched call that of iteration 1 for all three (they agree
        once the power iteration has converged). The missing iterations are run after the
        call, so the ``weight_u`` / ``weight_v`` buffers end the step as in the reference.

        Args: as :meth:`train_generator`, with the discriminator's wrapper.
        """
        curr_iter = MessageHub.get_current_instance().get_info('iter') or 0
        inputs = self._with_conditions(inputs, data_samples)
        onehot = inputs['onehot']
        with torch.no_grad():
            fake = _unwrap(self.generator)(onehot, inputs['part_features'], inputs['part_logits'])
        losses = self.losses.discriminator_losses(
            self.discriminator, fake, inputs['img'], onehot, batched=self.batch_d_passes, step=curr_iter)
        if self.batch_d_passes and self.discriminator.training:
            _power_iterations(_unwrap(self.discriminator), self.losses.num_d_passes - 1)
        loss, log_vars = self.parse_losses(losses)
        optimizer_wrapper.update_params(loss)
        log_vars['loss_d'] = log_vars.pop('loss')
        return {k: v.detach() for k, v in log_vars.items()}

    # ------------------------------------------------------------------ sampling
    def release_training_modules(self, sample_model: str = 'ema') -> None:
        """Free what sampling with ``sample_model`` never runs: D, the CLIP style loss and the
        generator that is not sampled (the training generator when sampling from the EMA one).

        For inference-only models (:class:`~mmipose.apis.IPOSEInferencer` built from a config):
        on the Cityscapes model this is ~1.3 GB of weights. Training or sampling the released
        generator afterwards raises.
        """
        if sample_model not in ('ema', 'orig'):
            raise ValueError(f"release_training_modules: sample_model must be 'ema' or 'orig', "
                             f'got {sample_model!r}')
        if sample_model == 'ema' and not self.with_ema_gen:
            raise ValueError("release_training_modules: sample_model='ema' but the model has no "
                             'EMA generator (ema_config=None)')
        self.discriminator = None
        self.losses.style_loss = None
        if sample_model == 'ema':
            self.generator = None
        elif self.with_ema_gen:
            self.generator_ema = None

    @property
    def with_ema_gen(self) -> bool:
        """Whether the model has an EMA generator (``ema_config``), until
        :meth:`release_training_modules` drops it."""
        return getattr(self, 'generator_ema', None) is not None

    @torch.no_grad()
    def refresh_ema_norm_stats(self, batches: Iterable[dict]) -> int:
        """Recompute the EMA generator's BN statistics (and SN u/v) on training batches.

        Runs the EMA generator in train mode under no_grad (as the authors' code), then restores its
        mode. Used by :class:`mmipose.engine.hooks.EMABNRefreshHook`.

        Args:
            batches (Iterable[dict]): Dataloader batches (before preprocessing).

        Returns:
            int: Number of batches used.
        """
        if not self.with_ema_gen:
            return 0
        ema_generator = self.generator_ema.module
        was_training = ema_generator.training
        ema_generator.train()
        used = 0
        try:
            for batch in batches:
                data = self.data_preprocessor(batch, False)
                onehot, part_features, part_logits, _ = self.prepare_conditions(data['inputs'], data['data_samples'])
                ema_generator(onehot, part_features, part_logits)
                used += 1
        finally:
            ema_generator.train(was_training)
        return used

    @torch.no_grad()
    def forward(self, inputs: dict, data_samples=None, mode: Optional[str] = None) -> List[DataSample]:
        """Synthesise images for a preprocessed batch (see the class docstring).

        Args:
            inputs (dict): ``label`` (B,1,H,W), ``inst`` (B,1,H,W), optional ``img``, ``z``
                (B,z_dim), ``z_part`` (B,31,h0,w0), ``sample_model`` ('ema' | 'orig' |
                'ema/orig').
            data_samples: Batched ``DataSample`` from the data preprocessor.
            mode: Unused (MMEngine API).

        Returns:
            list[DataSample]: One per image.
        """
        # Part inference stays float32: part ids are an argmax, and close PartNet logits flip
        # under bf16 (with random PartNet weights, 66 % of object pixels did).
        onehot, part_features, part_logits, _ = self.prepare_conditions(inputs, data_samples)
        z, z_part = inputs.get('z'), inputs.get('z_part')
        sample_model = self._get_valid_model(inputs)
        batch_size = onehot.shape[0]
        if data_samples is None:
            data_samples = DataSample.stack([DataSample() for _ in range(batch_size)])

        def generate(generator: nn.Module) -> Tensor:
            with autocast(onehot.device, self.sample_precision):
                fake = generator(onehot, part_features, part_logits, z=z, z_part=z_part)
            return self._to_bgr_255(fake.float(), data_samples)

        gen_sample = DataSample()
        gen_sample.update(data_samples)
        if 'gt_img' not in data_samples and 'img' in inputs:
            gen_sample.gt_img = self._to_bgr_255(inputs['img'], data_samples)
        if sample_model == 'ema/orig':
            # Both generators see the same noise: replay the RNG state when none was given.
            devices = [onehot.device] if onehot.device.type == 'cuda' else []
            with torch.random.fork_rng(devices=devices):
                orig = generate(self.generator)
            gen_sample.ema = DataSample(fake_img=generate(self.generator_ema))
            gen_sample.orig = DataSample(fake_img=orig)
        else:
            generator = self.generator_ema if sample_model == 'ema' else self.generator
            gen_sample.fake_img = generate(generator)
        gen_sample.sample_model = sample_model
        gen_sample.label = inputs['label'].reshape(batch_size, 1, *onehot.shape[-2:]).long()
        if part_logits is not None:
            gen_sample.pred_parts = channel_argmax(part_logits, keepdim=True)
        else:
            gen_sample.pred_parts = torch.zeros_like(gen_sample.label)
        return gen_sample.split(allow_nonseq_value=True)

    def _to_bgr_255(self, fake: Tensor, data_samples: DataSample) -> Tensor:
        """[-1,1] generator output in the preprocessor's order -> BGR [0,255] (``destruct``).

        ``destruct`` reads the channel order of the input-image key ``img``; when the batch has
        no image (synthesis from a label map alone) that metainfo is absent and MMagic would
        assume BGR, so it is filled in from the preprocessor's output order first.
        """
        order = getattr(self.data_preprocessor, 'output_channel_order', None) or 'BGR'
        if 'img_output_channel_order' not in data_samples.metainfo_keys():
            data_samples.set_metainfo({'img_output_channel_order': [order] * fake.shape[0]})
        return self.data_preprocessor.destruct(fake, data_samples, 'img')
