"""A painter session over the toy iPOSE config with random weights and drawn support maps (no files)."""
import os
import os.path as osp

import numpy as np
from PIL import Image

TOY_CONFIG = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'toy', 'ipose_tiny_1xb4-600iters_toy-64x128.py')


def support_maps(category: int, k: int = 3) -> np.ndarray:
    """k (64, 64) part maps of a simple shape: parts 1 (top), 5 (body) and 2 (bottom corners)."""
    maps = np.zeros((k, 64, 64), np.uint8)
    for i in range(k):
        top, bottom = 10 + 2 * i, 54 - i
        maps[i, top:bottom, 8:56] = 5
        maps[i, top:top + 12, 16:48] = 1
        maps[i, bottom - 10:bottom, 10:22] = 2
        maps[i, bottom - 10:bottom, 42:54] = 2
    return maps


def write_supports(root: str, categories=(24, 26, 28, 101), k: int = 3) -> str:
    for category in categories:
        os.makedirs(osp.join(root, str(category)), exist_ok=True)
        for i, part_map in enumerate(support_maps(category, k)):
            Image.fromarray(part_map).save(osp.join(root, str(category), f'{i}_part.png'))
    return root


def toy_session(tmp_dir: str, seed: int = 0, size=None):
    """PainterSession of the toy config: random generator and PartNet weights, drawn supports."""
    import torch

    from mmipose.painter import PainterSession
    torch.manual_seed(seed)
    root = write_supports(osp.join(tmp_dir, 'supports'))
    # init_gain 1.0: at the config's 0.02 a random generator barely responds to the noise
    options = {
        'model.part_inferencer.support_bank.root': root,
        'model.part_inferencer.partnet.checkpoint': None,
        'model.generator.init_gain': 1.0
    }
    return PainterSession(TOY_CONFIG, None, size=size, cfg_options=options, backend='pytorch', precision=None)
