"""Compose one toy street scene: background stuff + perspective-placed part-structured objects.

A scene is fully determined by its random generator, so scene ``i`` of a split can be redrawn
independently of the others (``np.random.default_rng([seed, split, i])``).
"""
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np

from .spec import (BUILDING, BUS, CAR, INSTANCE_OFFSET, PERSON, ROAD, SIDEWALK, SKY, TOY_PART_CATEGORIES, TREE,
                   VEGETATION)
from .sprites import SPRITE_DRAWERS, _blotches, _jitter


@dataclass
class SceneObject:
    """Book-keeping for one pasted object.

    Attributes:
        label (int): semantic class id.
        part_category (int): part-category id of the class.
        instance_value (int): value of its pixels in the instance map.
        drawn_pixels (int): sprite area (before clipping and occlusion).
        visible_pixels (int): pixels left in the final instance map.
    """
    label: int
    part_category: int
    instance_value: int
    drawn_pixels: int
    visible_pixels: int = 0

    @property
    def fully_visible(self) -> bool:
        return self.visible_pixels == self.drawn_pixels


@dataclass
class ToyScene:
    """One scene. ``image`` (H,W,3) uint8 RGB, ``label`` (H,W) uint8, ``inst`` (H,W) uint16,
    ``parts`` (H,W) uint8 ground-truth part ids (0 outside objects)."""
    image: np.ndarray
    label: np.ndarray
    inst: np.ndarray
    parts: np.ndarray
    objects: List[SceneObject] = field(default_factory=list)


def _draw_background(rng: np.random.Generator, height: int, width: int) -> Tuple[np.ndarray, np.ndarray, int, int]:
    """Sky, buildings, sidewalk (+ grass verge) and road. Returns (rgb float32, label, horizon, kerb)."""
    rgb = np.zeros((height, width, 3), np.float32)
    label = np.zeros((height, width), np.uint8)
    horizon = int(height * rng.uniform(0.35, 0.5))
    kerb = min(height - 4, horizon + int(height * rng.uniform(0.1, 0.18)))
    # sky: vertical gradient, mostly blue, sometimes overcast
    top, bottom = ((_jitter(rng, (60, 120, 210)), _jitter(rng, (170, 205, 240))) if rng.random() < 0.75 else
                   (_jitter(rng, (150, 150, 160)), _jitter(rng, (205, 205, 210))))
    t = np.linspace(0, 1, horizon, dtype=np.float32)[:, None, None]
    rgb[:horizon] = top * (1 - t) + bottom * t
    label[:horizon] = SKY
    # buildings along the horizon, with a window grid texture
    x = int(rng.integers(-width // 10, 1))
    while x < width:
        bw = int(width * rng.uniform(0.1, 0.3))
        if rng.random() < 0.8:
            roof = int(rng.integers(max(1, int(height * 0.04)), max(2, horizon - 2)))
            colour = _jitter(rng, ((150, 150, 150), (190, 170, 140), (150, 80, 60))[rng.integers(3)], 20)
            x0, x1 = max(x, 0), min(x + bw, width)
            rgb[roof:horizon, x0:x1] = colour
            label[roof:horizon, x0:x1] = BUILDING
            step = max(3, height // 16)
            dark = colour * 0.45
            for wy in range(roof + 1, horizon - 1, step):
                for wx in range(x0 + 1, x1 - 1, step):
                    rgb[wy:wy + max(1, step // 2), wx:wx + max(1, step // 2)] = dark
        x += bw
    # sidewalk band with a grass verge part of the way
    rgb[horizon:kerb] = _jitter(rng, (185, 175, 165), 15)
    label[horizon:kerb] = SIDEWALK
    if rng.random() < 0.6:
        g0 = int(rng.integers(0, width // 2))
        g1 = int(min(width, g0 + rng.integers(width // 4, width)))
        verge = slice(horizon, horizon + max(2, (kerb - horizon) // 2))
        rgb[verge, g0:g1] = _jitter(rng, (80, 150, 60), 20)
        label[verge, g0:g1] = VEGETATION
    # road with a dashed centre line
    rgb[kerb:] = _jitter(rng, (90, 90, 95), 10)
    label[kerb:] = ROAD
    line_y = kerb + int((height - kerb) * rng.uniform(0.45, 0.6))
    dash, offset = max(4, width // 12), int(rng.integers(0, width // 6))
    for dx in range(offset, width, 2 * dash):
        rgb[line_y:line_y + max(1, height // 64), dx:dx + dash] = (230, 230, 220)
    rgb += _blotches(rng, (height, width), cells=8, strength=4)[..., None]
    return rgb, label, horizon, kerb


def _object_plan(rng: np.random.Generator, height: int, horizon: int, kerb: int) -> List[Tuple[int, int, int]]:
    """Draw the list of (label, bottom row, sprite height) to place, unordered."""
    plan = []
    counts = {
        CAR: rng.integers(0, 4),
        PERSON: rng.integers(0, 4),
        BUS: int(rng.random() < 0.45),
        TREE: rng.integers(0, 3)
    }
    if sum(counts.values()) == 0:
        counts[CAR] = 1
    # (object height at the bottom of the image as a fraction of H, bottom-row range)
    rules = {
        CAR: (0.42, kerb + 2, height + 2),
        BUS: (0.55, kerb + 3, height),
        PERSON: (0.6, horizon + 2, height + 2),
        TREE: (0.85, horizon + 2, kerb + 1)
    }
    for label, count in counts.items():
        frac, lo, hi = rules[label]
        for _ in range(int(count)):
            bottom = int(rng.integers(min(lo, height - 1), max(min(lo, height - 1) + 1, hi)))
            depth = np.clip((bottom - horizon) / max(1, height - horizon), 0, 1)
            size = int(round(height * frac * (0.45 + 0.55 * depth) * rng.uniform(0.85, 1.15)))
            plan.append((label, bottom, size))
    return plan


def draw_scene(rng: np.random.Generator, height: int = 64, width: int = 128) -> ToyScene:
    """Draw one scene.

    Args:
        rng (np.random.Generator): the scene's random generator.
        height (int): image height.
        width (int): image width.

    Returns:
        ToyScene: image, label, instance and part maps plus per-object records (paste order =
        far to near; nearer objects occlude farther ones).
    """
    rgb, label, horizon, kerb = _draw_background(rng, height, width)
    inst = label.astype(np.uint16)  # stuff pixels carry their label id (Cityscapes convention)
    parts = np.zeros((height, width), np.uint8)
    objects: List[SceneObject] = []
    next_index = {k: 1 for k in TOY_PART_CATEGORIES}
    for obj_label, bottom, size in sorted(_object_plan(rng, height, horizon, kerb), key=lambda p: p[1]):
        category = TOY_PART_CATEGORIES[obj_label]
        sprite = SPRITE_DRAWERS[category](rng, size)
        sh, sw = sprite.parts.shape
        top, left = bottom - sh, int(rng.integers(-sw // 3, width - 2 * sw // 3))
        y0, y1, x0, x1 = max(top, 0), min(top + sh, height), max(left, 0), min(left + sw, width)
        if y1 <= y0 or x1 <= x0:
            continue
        local = sprite.parts[y0 - top:y1 - top, x0 - left:x1 - left]
        inside = local > 0
        value = obj_label * INSTANCE_OFFSET + next_index[obj_label]
        next_index[obj_label] += 1
        rgb[y0:y1, x0:x1][inside] = sprite.rgb[y0 - top:y1 - top, x0 - left:x1 - left][inside]
        label[y0:y1, x0:x1][inside] = obj_label
        inst[y0:y1, x0:x1][inside] = value
        parts[y0:y1, x0:x1][inside] = local[inside]
        objects.append(SceneObject(obj_label, category, value, int((sprite.parts > 0).sum())))
    values, counts = np.unique(inst, return_counts=True)
    visible = dict(zip(values.tolist(), counts.tolist()))
    for obj in objects:
        obj.visible_pixels = visible.get(obj.instance_value, 0)
    image = np.clip(rgb + rng.normal(0, 2.5, rgb.shape), 0, 255).astype(np.uint8)
    return ToyScene(image, label, inst, parts, [o for o in objects if o.visible_pixels > 0])


def render_scene_preview(scene: ToyScene) -> np.ndarray:
    """Quick side-by-side (image | label colours) for eyeballing; (H, 2W, 3) uint8 RGB."""
    from mmipose.visualization.palette import colorize_label

    from .spec import TOY_PALETTE
    return np.concatenate([scene.image, colorize_label(scene.label, palette=TOY_PALETTE)], 1)


__all__ = ['SceneObject', 'ToyScene', 'draw_scene', 'render_scene_preview']
