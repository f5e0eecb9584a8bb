"""Small stand-ins with the data-contract interfaces of the iPOSE networks and losses.

They let the IPOSE model logic (step order, EMA, sampling outputs, input checks) be tested in
milliseconds. Each records its calls in a shared ``log`` list so tests can check the order.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.structures import DataSample

from mmipose.models.partnet import ObjectPartInferencer


class StandInPartInferencer(nn.Module):
    """part_features (B,288,H,W) / part_logits (B,9,H,W): part 1 on an object's top half, part 2
    on its bottom half, zeros outside objects (the contract's layout)."""

    def __init__(self, log=None):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))  # must be frozen by IPOSE
        self.log = log if log is not None else []
        self._warned_categories = set()

    # the real filter; a test may give the stand-in a ``support_bank`` with ``categories``
    drop_unsupported_objects = ObjectPartInferencer.drop_unsupported_objects

    def forward(self, inst, objects):
        self.log.append(('parts', inst.shape[0], [len(o) for o in objects]))
        b, _, h, w = inst.shape
        features = torch.zeros(b, 288, h, w, device=inst.device)
        logits = torch.zeros(b, 9, h, w, device=inst.device)
        for i, table in enumerate(objects):
            for row in table.tolist():
                mask = (inst[i, 0] == row[0]).float()
                rows = torch.arange(h, device=inst.device).float()[:, None]
                top = mask * (rows < (row[2] + row[3]) / 2).float()
                logits[i, 1] += top * 5
                logits[i, 2] += (mask - top) * 5
                features[i] += mask * self.scale
        return features, logits


class StandInGenerator(nn.Module):
    """BN generator taking (onehot, part_features, part_logits, z, z_part)."""

    def __init__(self, num_classes, z_dim=4, log=None):
        super().__init__()
        self.z_dim = z_dim
        self.conv = nn.Conv2d(num_classes + z_dim + 1, 8, 3, padding=1)
        self.norm = nn.BatchNorm2d(8, affine=False)
        self.out = nn.Conv2d(8, 3, 3, padding=1)
        self.log = log if log is not None else []

    def forward(self, onehot, part_features, part_logits, z=None, z_part=None):
        self.log.append(('G', torch.is_grad_enabled()))
        b, _, h, w = onehot.shape
        if z is None:
            z = torch.randn(b, self.z_dim, device=onehot.device)
        mask = (part_logits.argmax(1, keepdim=True) > 0).float() if part_logits is not None \
            else onehot[:, :1] * 0
        x = torch.cat([onehot, z[:, :, None, None].expand(-1, -1, h, w), mask], 1)
        return torch.tanh(self.out(F.leaky_relu(self.norm(self.conv(x)), 0.2)))


class StandInDiscriminator(nn.Module):
    """(seg_logits (B,C+1,H,W), global_logits (B,1,H/16,W/16))."""

    def __init__(self, num_classes, log=None):
        super().__init__()
        self.seg = nn.Conv2d(3, num_classes + 1, 3, padding=1)
        self.glob = nn.Conv2d(3, 1, 16, stride=16)
        self.log = log if log is not None else []

    def forward(self, img):
        self.log.append(('D', any(p.requires_grad for p in self.parameters())))
        return self.seg(img), self.glob(img)


class StandInNPlus1Loss(nn.Module):

    def forward(self, logits, onehot, for_real):
        target = onehot.argmax(1) + 1 if for_real else onehot.new_zeros(onehot[:, 0].shape).long()
        return F.cross_entropy(logits, target)


class StandInHingeLoss(nn.Module):

    def forward(self, logits, target_is_real, is_disc):
        if not is_disc:
            return -logits.mean()
        return F.relu(1 - logits).mean() if target_is_real else F.relu(1 + logits).mean()


def make_batch(batch_size=2, num_classes=5, height=32, width=64, objects_per_image=(1, 0), label_max=None, seed=0):
    """A dataloader batch in the data-contract layout (before preprocessing)."""
    g = torch.Generator().manual_seed(seed)
    inputs = dict(img=[], label=[], inst=[])
    samples = []
    for b in range(batch_size):
        label = torch.randint(0, label_max or num_classes, (1, height, width), generator=g)
        inst = torch.zeros(1, height, width, dtype=torch.long)
        rows = []
        k = objects_per_image[b % len(objects_per_image)]
        for j in range(k):
            hs = (2 * j) % (height - 6)
            ws = (3 * j) % (width - 8)
            value = 26000 + j + 1
            inst[0, hs:hs + 6, ws:ws + 8] = value
            rows.append([value, 26, hs, hs + 6, ws, ws + 8, 1, 1])
        img = torch.randint(0, 256, (3, height, width), dtype=torch.uint8, generator=g)
        sample = DataSample(gt_img=img.clone())
        sample.set_metainfo(dict(objects=np.array(rows, dtype=np.int64).reshape(-1, 8)))
        inputs['img'].append(img)
        inputs['label'].append(label)
        inputs['inst'].append(inst)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)
