"""A pretrained MMSeg segmenter as a frozen function: BGR [0,255] images -> class ids."""
import os.path as osp
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.registry import DefaultScope
from torch import Tensor, nn

from mmipose.models.channel_argmax import channel_argmax

ZOO_HINT = ('the MMSeg model zoo (the "Weights" link of the config in '
            'mmseg/.mim/configs/<model>/metafile.yaml); see docs/evaluation.md')


def load_segmenter_config(segmenter_config: Union[str, dict]) -> Config:
    """Read a segmenter config: a file, ``'mmseg::<model>/<config>.py'`` or a dict.

    ``mmseg::`` names a config shipped inside the installed mmsegmentation package (no
    network). A dict may be a whole config (with ``model``) or the ``model`` dict itself.
    """
    if isinstance(segmenter_config, str):
        if '::' in segmenter_config:
            from mmengine.hub import get_config
            try:
                return get_config(segmenter_config)
            except (FileNotFoundError, ValueError) as error:
                raise FileNotFoundError(f'segmenter_config {segmenter_config!r}: no such config '
                                        f'in the installed package ({error})') from error
        if not osp.isfile(segmenter_config):
            raise FileNotFoundError(f'segmenter_config file {segmenter_config} not found')
        return Config.fromfile(segmenter_config)
    cfg = dict(segmenter_config)
    return Config(cfg if 'model' in cfg else dict(model=cfg))


def build_segmenter(segmenter_config: Union[str, dict],
                    checkpoint: Optional[str],
                    allow_random_init: bool = False) -> nn.Module:
    """Build an MMSeg segmenter (eval mode, frozen) and load its local checkpoint.

    Args:
        segmenter_config (str | dict): See :func:`load_segmenter_config`.
        checkpoint (str, optional): Local MMSeg checkpoint file.
        allow_random_init (bool): Accept ``checkpoint=None`` (tests and timing only).

    Raises:
        ValueError: ``checkpoint`` is None and ``allow_random_init`` is False.
        FileNotFoundError: the config or checkpoint file does not exist.
    """
    if checkpoint is None and not allow_random_init:
        raise ValueError('SegmentationMetric: segmenter_checkpoint is None; set it to the local '
                         f'checkpoint of the segmenter config (download it from {ZOO_HINT})')
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'SegmentationMetric: segmenter_checkpoint {checkpoint} not '
                                f'found; download it from {ZOO_HINT}')
    model_cfg = ConfigDict(load_segmenter_config(segmenter_config)['model'])
    model_cfg.pop('pretrained', None)  # ImageNet backbone files are never needed here
    model_cfg.train_cfg = None
    import mmseg.models  # noqa: F401  (registers MMSeg's modules)
    from mmseg.registry import MODELS as MMSEG_MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MMSEG_MODELS.build(model_cfg)
    if checkpoint is not None:
        from mmengine.runner import load_checkpoint

        from mmipose.utils.checkpoint import allow_mmengine_checkpoints
        allow_mmengine_checkpoints()  # a checkpoint MMEngine's Runner wrote holds its message hub
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True, logger='silent')
    return model.eval().requires_grad_(False)


def segmenter_num_classes(segmenter: nn.Module) -> int:
    """Number of classes the segmenter's (last) decode head predicts."""
    head = getattr(segmenter, 'decode_head', None)
    if isinstance(head, nn.ModuleList):  # cascade segmentors: the last head predicts
        head = head[-1]
    if head is None or not hasattr(head, 'num_classes'):
        raise ValueError(f'SegmentationMetric: {type(segmenter).__name__} has no decode_head '
                         'with num_classes')
    if getattr(head, 'out_channels', head.num_classes) != head.num_classes:
        raise ValueError('SegmentationMetric: binary (out_channels=1) segmenters are not supported')
    return int(head.num_classes)


@torch.no_grad()
def segment(segmenter: nn.Module,
            bgr: Tensor,
            out_size: Tuple[int, int],
            eval_size: Optional[Tuple[int, int]] = None) -> Tensor:
    """Class ids of a batch of BGR images, through the segmenter's own preprocessing.

    Args:
        segmenter (nn.Module): MMSeg ``EncoderDecoder`` (whole or slide test mode).
        bgr (Tensor): (N,3,H,W) float BGR in [0,255] (MMagic's ``fake_img``).
        out_size (tuple): (h, w) of the returned map.
        eval_size (tuple, optional): (h, w) the images are bilinearly resized to before the
            segmenter; None = as given.

    Returns:
        Tensor: (N,h,w) long; logits are bilinearly resized to ``out_size`` before the argmax.
    """
    from mmseg.structures import SegDataSample
    bgr = bgr.to(next(segmenter.parameters()).device, torch.float32)
    if eval_size is not None and tuple(bgr.shape[-2:]) != tuple(eval_size):
        bgr = F.interpolate(bgr, size=tuple(eval_size), mode='bilinear', align_corners=False)
    height, width = bgr.shape[-2:]
    data = segmenter.data_preprocessor(
        dict(inputs=list(bgr), data_samples=[SegDataSample() for _ in range(len(bgr))]), False)
    inputs = data['inputs']  # normalised, RGB when the config says bgr_to_rgb; maybe padded
    shape = tuple(inputs.shape[-2:])
    metas = [
        dict(ori_shape=shape, img_shape=shape, pad_shape=shape, padding_size=[0, 0, 0, 0]) for _ in range(len(inputs))
    ]
    logits = segmenter.inference(inputs, metas)[..., :height, :width]  # drop bottom/right pad
    if tuple(logits.shape[-2:]) != tuple(out_size):
        logits = F.interpolate(logits, size=tuple(out_size), mode='bilinear', align_corners=False)
    return channel_argmax(logits)
