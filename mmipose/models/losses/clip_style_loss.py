"""Object-level CLIP style loss of iPOSE: relaxed earth mover's distance between CLIP tokens."""
import os.path as osp
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmipose.registry import MODELS

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
WEIGHTS_HINT = ('Download the OpenAI CLIP ViT-B/32 weights (open_clip model "ViT-B-32-quickgelu", '
                'pretrained tag "openai", e.g. the file ViT-B-32.pt of the OpenAI CLIP release) '
                'and set `pretrained` to its local path.')
# First open_clip release with VisionTransformer._embeds (conv1 + class/positional embeddings +
# ln_pre), which tokens() runs before the transformer blocks.
MIN_OPEN_CLIP = '2.32.0'


def import_open_clip():
    """Import open_clip, or raise an ImportError naming the installed and the required version."""
    from mmengine.utils import digit_version
    try:
        import open_clip
    except ImportError as err:
        raise ImportError(f'CLIPStyleLoss needs open_clip_torch>={MIN_OPEN_CLIP} '
                          f'(pip install "open_clip_torch>={MIN_OPEN_CLIP}").') from err
    version = getattr(open_clip, '__version__', '0')
    if digit_version(version) < digit_version(MIN_OPEN_CLIP):
        raise ImportError(f'CLIPStyleLoss needs open_clip_torch>={MIN_OPEN_CLIP}, found {version} '
                          f'(no VisionTransformer._embeds); pip install -U "open_clip_torch>='
                          f'{MIN_OPEN_CLIP}".')
    return open_clip


def choose_clip_mode(step: int, seed: int = 0) -> str:
    """Whole-image or object-crop style loss for a global training step (p = 0.5 each).

    A pure function of ``(step, seed)``, so every DDP rank makes the same choice. The reference
    draws ``random.sample([0, 1], 1)`` per GPU replica, which lets ranks disagree.
    """
    rng = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(step))
    return 'whole' if int(torch.randint(0, 2, (1, ), generator=rng)) == 1 else 'objects'


def remd_loss(fake_tokens: Tensor, real_tokens: Tensor) -> Tensor:
    """Relaxed EMD between token sets (paper Eq. 5-6).

    Args:
        fake_tokens (Tensor): (B,N,D).
        real_tokens (Tensor): (B,M,D).

    Returns:
        Tensor: ``mean_b max(mean_i min_j C_ij, mean_j min_i C_ij)`` with the cosine cost
        ``C = 1 - F R^T`` of L2-normalised tokens.
    """
    fake_tokens = F.normalize(fake_tokens, dim=-1)
    real_tokens = F.normalize(real_tokens, dim=-1)
    cost = 1 - torch.bmm(fake_tokens, real_tokens.transpose(1, 2))
    fake_to_real = cost.min(dim=2).values.mean(dim=1)
    real_to_fake = cost.min(dim=1).values.mean(dim=1)
    return torch.maximum(fake_to_real, real_to_fake).mean()


def crop_objects(images: Sequence[Tensor],
                 objects: Sequence[Tensor],
                 picks: Sequence[tuple],
                 size: int = 128) -> List[Tensor]:
    """Crop the same objects from several image batches, as the reference's style loss.

    Each crop is the raw box ``[hs:he, ws:we]`` (no margin), aspect-restored with bilinear
    resizing when ``H0 != W0`` (height ``int(h*H0/W0)`` or width ``int(w*W0/H0)``), zero-padded
    to a square (``(long-short)//2`` on each side) and nearest-resized to ``size``.

    Args:
        images (Sequence[Tensor]): Batches (B,3,H,W) cropped identically.
        objects (Sequence[Tensor]): Per image (K_b,8) rows ``[inst, cat, hs, he, ws, we, H0, W0]``.
        picks (Sequence[tuple]): (b, row) pairs to crop.
        size (int): Output side.

    Returns:
        list[Tensor]: One (P,3,size,size) tensor per input batch.
    """
    outputs: List[List[Tensor]] = [[] for _ in images]
    for b, row in picks:
        _, _, hs, he, ws, we, h0, w0 = (int(v) for v in objects[b][row])
        for out, batch in zip(outputs, images):
            crop = batch[b:b + 1, :, hs:he, ws:we]
            h, w = crop.shape[-2:]
            if h0 > w0:
                crop = F.interpolate(crop, (int(h * h0 / w0), w), mode='bilinear', align_corners=False)
            elif w0 > h0:
                crop = F.interpolate(crop, (h, int(w * w0 / h0)), mode='bilinear', align_corners=False)
            hh, ww = crop.shape[-2:]
            if hh > ww:
                r = (hh - ww) // 2
                crop = F.pad(crop, (r, r, 0, 0))
            elif ww > hh:
                r = (ww - hh) // 2
                crop = F.pad(crop, (0, 0, r, r))
            out.append(F.interpolate(crop, (size, size), mode='nearest'))
    return [torch.cat(out) if out else batch.new_zeros(0, 3, size, size) for out, batch in zip(outputs, images)]


def load_clip_visual_weights(visual: nn.Module, path: str) -> None:
    """Load CLIP image-encoder weights from a local OpenAI (TorchScript) or open_clip file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'CLIPStyleLoss: CLIP weights file not found: {path}. {WEIGHTS_HINT}')
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file
        state = load_file(path)
    else:
        try:
            state = torch.jit.load(path, map_location='cpu').state_dict()
        except RuntimeError:
            state = torch.load(path, map_location='cpu', weights_only=True)
    if 'state_dict' in state:
        state = state['state_dict']
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    visual_state = {k[len('visual.'):]: v.float() for k, v in state.items() if k.startswith('visual.')}
    if not visual_state:
        raise KeyError(f'CLIPStyleLoss: no `visual.*` keys in {path}; expected a CLIP checkpoint.')
    visual.load_state_dict(visual_state, strict=True)


@MODELS.register_module()
class CLIPStyleLoss(nn.Module):
    """CLIP token style loss on whole images or object crops (iPOSE, paper Eq. 5-6).

    Tokens are the residual stream after visual transformer block ``layer`` (0-based 8, the
    9th of 12) of OpenAI CLIP ViT-B/32 with QuickGELU, CLS token dropped: (B,49,768). The
    forward stops after that block. CLIP is frozen. Preprocessing as the reference: [-1,1] ->
    [0,1], bilinear resize to 224x224 without antialiasing, CLIP normalisation.

    Args:
        pretrained (str, optional): Local CLIP weights file (OpenAI ``ViT-B-32.pt`` or an
            open_clip checkpoint). None = random initialisation (tests, quick runs).
        model_name (str): open_clip architecture; ``ViT-B-32-quickgelu`` matches OpenAI's CLIP.
        layer (int): Index of the transformer block whose output is used.
        max_objects (int): Object crops per step, drawn over the whole batch.
        crop_size (int): Side of the object crops.
        fp16 (bool, optional): Run CLIP in float16 autocast; default: only on CUDA.
        loss_weight (float): Multiplier (lambda_style is applied by the model).
        vision_width (int, optional): Narrower visual transformer (multiple of 64, one head per
            64 channels) with random weights and a one-layer text tower, for quick runs of a
            config on a CPU (``--cfg-options model.loss_config.style_loss.vision_width=64``).
            None = the architecture of ``model_name``. Cannot be combined with ``pretrained``.
    """

    def __init__(self,
                 pretrained: Optional[str] = None,
                 model_name: str = 'ViT-B-32-quickgelu',
                 layer: int = 8,
                 max_objects: int = 10,
                 crop_size: int = 128,
                 fp16: Optional[bool] = None,
                 loss_weight: float = 1.0,
                 vision_width: Optional[int] = None):
        super().__init__()
        open_clip = import_open_clip()  # lazy: heavy import, only needed when the loss is used
        overrides = {}
        if vision_width is not None:
            if pretrained is not None or vision_width < 64 or vision_width % 64:
                raise ValueError('CLIPStyleLoss: vision_width must be a multiple of 64 and needs '
                                 f'pretrained=None, got vision_width={vision_width}, '
                                 f'pretrained={pretrained!r}')
            model_cfg = open_clip.get_model_config(model_name)
            overrides = dict(
                vision_cfg=dict(model_cfg['vision_cfg'], width=vision_width),
                text_cfg=dict(model_cfg['text_cfg'], width=64, heads=1, layers=1))
        clip_model = open_clip.create_model(model_name, pretrained=None, **overrides)
        self.visual = clip_model.visual
        if pretrained is not None:
            load_clip_visual_weights(self.visual, pretrained)
        depth = len(self.visual.transformer.resblocks)
        if not 0 <= layer < depth:
            raise ValueError(f'CLIPStyleLoss: layer must be in 0..{depth - 1}, got {layer}')
        self.layer = layer
        self.max_objects = max_objects
        self.crop_size = crop_size
        self.fp16 = fp16
        self.loss_weight = loss_weight
        self.register_buffer('mean', torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    @property
    def loss_name(self) -> str:
        return 'loss_style'

    def train(self, mode: bool = True) -> 'CLIPStyleLoss':
        return super().train(False)  # frozen feature extractor, always in eval mode

    def tokens(self, img: Tensor) -> Tensor:
        """CLIP tokens of block ``layer``: (B,3,H,W) RGB in [-1,1] -> (B,49,768)."""
        x = (img + 1) / 2
        x = F.interpolate(x, (224, 224), mode='bilinear', align_corners=False)
        x = (x - self.mean) / self.std
        use_fp16 = self.fp16 if self.fp16 is not None else x.is_cuda
        with torch.autocast(x.device.type, dtype=torch.float16, enabled=use_fp16 and x.is_cuda):
            x = self.visual._embeds(x)
            transformer = self.visual.transformer
            if not transformer.batch_first:
                x = x.transpose(0, 1)
            for block in transformer.resblocks[:self.layer + 1]:
                x = block(x)
            if not transformer.batch_first:
                x = x.transpose(0, 1)
        return x[:, 1:].float()

    def forward(self,
                fake: Tensor,
                real: Tensor,
                objects: Optional[Sequence[Tensor]] = None,
                mode: str = 'whole') -> Tensor:
        """Style loss between fake and real images.

        Args:
            fake (Tensor): (B,3,H,W) generated images in [-1,1] (gradients flow to it).
            real (Tensor): (B,3,H,W) real images in [-1,1].
            objects (Sequence[Tensor], optional): Per image (K_b,8) object rows (data contract).
            mode (str): 'whole' (full images) or 'objects' (up to ``max_objects`` crops).

        Returns:
            Tensor: scalar loss; 0 (still connected to ``fake``) in 'objects' mode without objects.
        """
        if mode == 'whole':
            return self.loss_weight * remd_loss(self.tokens(fake), self.tokens(real))
        if mode != 'objects':
            raise ValueError(f"CLIPStyleLoss: mode must be 'whole' or 'objects', got {mode!r}")
        objects = [o.detach().cpu() if torch.is_tensor(o) else torch.as_tensor(o) for o in (objects or [])]
        candidates = [(b, r) for b, rows in enumerate(objects) for r in range(len(rows))]
        if not candidates:
            return fake.sum() * 0.0
        order = torch.randperm(len(candidates))[:self.max_objects].tolist()
        picks = [candidates[i] for i in order]
        fake_crops, real_crops = crop_objects([fake, real], objects, picks, self.crop_size)
        return self.loss_weight * remd_loss(self.tokens(fake_crops), self.tokens(real_crops))
