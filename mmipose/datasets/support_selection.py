"""Pick k support part maps per category by k-medoids clustering of the training shapes (paper Sec. 4.1).

Distance between two 64x64 binary object shapes = 1 - IoU. k-medoids (k-medoids++ seeding, then
alternating assignment / medoid update until stable) keeps the supports real samples; the medoids,
ordered by cluster size (largest first), are copied as::

    <support_root>/<category id>/<NN>_<sample name>_part.png      (SupportBank layout, docs/supports.md)

Deterministic for a given ``--seed``. Categories with many samples are clustered on a seeded random
subset of ``--max-samples`` shapes (the distance matrix is quadratic).

Example::

    python tools/select_supports.py data/Full_Parts data/Full_Parts/support_shape/3 --k 3
"""
import argparse
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image
from tqdm import tqdm


def iou_distances(shapes: np.ndarray) -> np.ndarray:
    """Pairwise ``1 - IoU`` of binary shapes.

    Args:
        shapes (np.ndarray): (N, H, W) binary shapes.

    Returns:
        np.ndarray: (N, N) float64 distances (0 on the diagonal; two empty shapes have distance 0).
    """
    flat = shapes.reshape(len(shapes), -1).astype(np.float64) > 0
    flat = flat.astype(np.float64)
    inter = flat @ flat.T
    area = flat.sum(1)
    union = area[:, None] + area[None, :] - inter
    iou = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
    return 1.0 - iou


def k_medoids(distances: np.ndarray, k: int, seed: int = 0, max_iters: int = 100) -> Tuple[np.ndarray, np.ndarray]:
    """k-medoids on a precomputed distance matrix.

    Args:
        distances (np.ndarray): (N, N) symmetric distances.
        k (int): number of clusters (<= N).
        seed (int): seed of the k-medoids++ initialisation.
        max_iters (int): alternation limit.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``medoids`` (k,) sample indices ordered by cluster size
        (largest first, ties by index) and ``assignment`` (N,) cluster of each sample (0 = the
        first medoid).
    """
    num = len(distances)
    if not 1 <= k <= num:
        raise ValueError(f'k-medoids needs 1 <= k <= number of samples, got k={k}, N={num}')
    rng = np.random.default_rng(seed)
    medoids = [int(np.argmin(distances.sum(1)))]  # the most central sample, then ++ seeding
    while len(medoids) < k:
        nearest = distances[:, medoids].min(1)
        weights = nearest**2
        if weights.sum() <= 0:
            remaining = np.setdiff1d(np.arange(num), medoids)
            medoids.append(int(rng.choice(remaining)))
        else:
            medoids.append(int(rng.choice(num, p=weights / weights.sum())))
    medoids = np.array(medoids)
    for _ in range(max_iters):
        assignment = distances[:, medoids].argmin(1)
        updated = medoids.copy()
        for cluster in range(k):
            members = np.flatnonzero(assignment == cluster)
            if members.size:
                updated[cluster] = members[np.argmin(distances[np.ix_(members, members)].sum(1))]
        if np.array_equal(updated, medoids):
            break
        medoids = updated
    assignment = distances[:, medoids].argmin(1)
    sizes = np.bincount(assignment, minlength=k)
    order = sorted(range(k), key=lambda c: (-sizes[c], medoids[c]))
    remap = np.empty(k, np.int64)
    remap[order] = np.arange(k)
    return medoids[order], remap[assignment]


def list_samples(folder: str) -> List[str]:
    """Sorted sample names ``<name>`` having both ``<name>_label.png`` and ``<name>_part.png``."""
    files = set(os.listdir(folder))
    return sorted(f[:-len('_label.png')] for f in files
                  if f.endswith('_label.png') and f[:-len('_label.png')] + '_part.png' in files)


def select_category(folder: str, k: int, seed: int = 0, max_samples: int = 2000) -> List[str]:
    """Names of the k medoid samples of one category's ``train`` folder."""
    names = list_samples(folder)
    if len(names) < k:
        raise ValueError(f'{folder} has {len(names)} samples, fewer than k={k}')
    if len(names) > max_samples:
        keep = np.random.default_rng(seed).choice(len(names), max_samples, replace=False)
        names = [names[i] for i in sorted(keep)]
    shapes = np.stack([np.array(Image.open(osp.join(folder, n + '_label.png'))) for n in names])
    if shapes.ndim == 4:  # RGB label PNGs (the authors' Full_Parts) -> first channel
        shapes = shapes[..., 0]
    medoids, _ = k_medoids(iou_distances(shapes), k, seed)
    return [names[i] for i in medoids]


def select_supports(data_root: str,
                    support_root: str,
                    k: int = 3,
                    categories: Optional[Sequence[int]] = None,
                    seed: int = 0,
                    max_samples: int = 2000,
                    split: str = 'train') -> Dict[int, List[str]]:
    """Write k supports for every category folder of ``data_root`` (or ``categories``)."""
    if categories is None:
        categories = sorted(
            int(d) for d in os.listdir(data_root) if d.isdigit() and osp.isdir(osp.join(data_root, d, split)))
    chosen = {}
    for category in tqdm(categories, desc='k-medoids supports'):
        folder = osp.join(data_root, str(category), split)
        names = select_category(folder, k, seed, max_samples)
        out = osp.join(support_root, str(category))
        os.makedirs(out, exist_ok=True)
        for old in os.listdir(out):
            if old.endswith('_part.png'):
                os.remove(osp.join(out, old))
        for i, name in enumerate(names):
            shutil.copyfile(osp.join(folder, name + '_part.png'), osp.join(out, f'{i:02d}_{name}_part.png'))
        chosen[int(category)] = names
    return chosen


def main(argv=None) -> Dict[int, List[str]]:
    parser = argparse.ArgumentParser(description='k-medoids (1 - IoU) support selection per part category')
    parser.add_argument('data_root', help='part dataset root (<cat>/<split>/*_label.png, *_part.png)')
    parser.add_argument('support_root', help='output root (<cat>/<NN>_<name>_part.png)')
    parser.add_argument('--k', type=int, default=3, help='supports per category')
    parser.add_argument('--categories', type=int, nargs='+', help='category ids (default: all folders)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-samples', type=int, default=2000, help='cluster at most this many shapes')
    parser.add_argument('--split', default='train')
    args = parser.parse_args(argv)
    chosen = select_supports(args.data_root, args.support_root, args.k, args.categories, args.seed, args.max_samples,
                             args.split)
    for category, names in chosen.items():
        print(f'category {category}: {names}')
    return chosen
