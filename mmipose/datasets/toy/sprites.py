"""Part-structured object sprites (person, car, bus, tree) for the toy street scenes.

A sprite is a small local canvas: ``parts`` (h, w) uint8 part ids (0 = not the object) and
``rgb`` (h, w, 3) uint8 colours. Every part has its own colour family and texture so that a
small generator can learn to render parts; shapes, proportions, poses and colours vary per draw.
Part ids follow :mod:`mmipose.datasets.toy.spec` (Cityscapes-PPS numbering).
"""
from dataclasses import dataclass
from typing import Callable, Dict, Sequence

import cv2
import numpy as np

# part ids (Cityscapes-PPS order)
TORSO, HEAD, ARM, LEG = 1, 2, 3, 4
WINDOW, WHEEL, LIGHT, PLATE, CHASSIS = 1, 2, 3, 4, 5
TRUNK, CROWN = 1, 2

_CAR_COLOURS = ((200, 30, 35), (30, 70, 190), (235, 235, 235), (35, 35, 40), (170, 175, 180), (240, 200, 40),
                (40, 140, 70), (120, 40, 150))
_BUS_COLOURS = ((245, 190, 20), (205, 40, 40), (40, 150, 80), (40, 90, 200), (235, 235, 235))
_SHIRT_COLOURS = ((210, 50, 50), (50, 90, 200), (240, 240, 240), (40, 40, 40), (60, 160, 80), (240, 170, 40), (150, 60,
                                                                                                               160))
_PANTS_COLOURS = ((40, 60, 120), (30, 30, 35), (150, 125, 90), (90, 90, 95))
_SKIN_COLOURS = ((240, 200, 170), (205, 150, 110), (150, 100, 70), (95, 65, 45))


@dataclass
class Sprite:
    """One drawn object.

    Attributes:
        parts (np.ndarray): (h, w) uint8 part ids, 0 outside the object.
        rgb (np.ndarray): (h, w, 3) uint8 colours (meaningful where ``parts > 0``).
    """
    parts: np.ndarray
    rgb: np.ndarray


def _jitter(rng: np.random.Generator, colour: Sequence[int], amount: float = 18) -> np.ndarray:
    return np.clip(np.asarray(colour, np.float32) + rng.uniform(-amount, amount, 3), 0, 255)


def _pick(rng: np.random.Generator, colours: Sequence[Sequence[int]]) -> np.ndarray:
    return _jitter(rng, colours[rng.integers(len(colours))])


def _render(rng: np.random.Generator,
            parts: np.ndarray,
            part_colours: Dict[int, np.ndarray],
            noise: float = 6.0,
            shade: float = 0.25) -> np.ndarray:
    """Colour a part map: per-part base colour, top-to-bottom shading and pixel noise."""
    h, w = parts.shape
    palette = np.zeros((int(parts.max(initial=0)) + 1, 3), np.float32)
    for part_id, colour in part_colours.items():
        if part_id < len(palette):
            palette[part_id] = colour
    rgb = palette[parts]
    ramp = 1.0 + shade * (0.5 - np.linspace(0, 1, h, dtype=np.float32))[:, None, None]
    rgb = rgb * ramp + rng.normal(0, noise, (h, w, 3)).astype(np.float32)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _flip(rng: np.random.Generator, sprite: Sprite) -> Sprite:
    if rng.random() < 0.5:
        return Sprite(sprite.parts[:, ::-1].copy(), sprite.rgb[:, ::-1].copy())
    return sprite


def _pt(x: float, y: float) -> tuple:
    return int(round(x)), int(round(y))


def draw_car(rng: np.random.Generator, height: int) -> Sprite:
    """Side view of a car facing right (randomly mirrored): chassis, windows, wheels, lights, plate."""
    h = max(int(height), 8)
    w = int(round(h * rng.uniform(1.9, 2.4)))
    parts = np.zeros((h, w), np.uint8)
    radius = max(1.5, h * rng.uniform(0.15, 0.19))
    body_bottom = h - 1 - radius * 0.6
    body_top = h * rng.uniform(0.40, 0.50)
    roof = h * rng.uniform(0.02, 0.1)
    boxy = rng.random() < 0.35  # SUV / van-like cabin
    c0, c1 = w * rng.uniform(0.12, 0.22), w * rng.uniform(0.72, 0.82)
    r0, r1 = (c0 + w * 0.04, c1 - w * 0.02) if boxy else (c0 + w * 0.14, c1 - w * 0.12)
    cabin = np.array([_pt(c0, body_top), _pt(r0, roof), _pt(r1, roof), _pt(c1, body_top)], np.int32)
    cv2.rectangle(parts, _pt(0, body_top), _pt(w - 1, body_bottom), CHASSIS, -1)
    cv2.fillPoly(parts, [cabin], CHASSIS)
    inset = max(1.0, h * 0.07)
    window = np.array([
        _pt(c0 + 2 * inset, body_top - inset * 0.5),
        _pt(r0 + inset, roof + inset),
        _pt(r1 - inset, roof + inset),
        _pt(c1 - 2 * inset, body_top - inset * 0.5)
    ], np.int32)
    cv2.fillPoly(parts, [window], WINDOW)
    pillar = (c0 + c1) / 2 + w * rng.uniform(-0.05, 0.05)
    cv2.line(parts, _pt(pillar, roof), _pt(pillar, body_top), CHASSIS, max(1, int(w * 0.03)))
    light_h = max(1.0, h * 0.1)
    cv2.rectangle(parts, _pt(w - max(2, w * 0.05), body_top + h * 0.06), _pt(w - 1, body_top + h * 0.06 + light_h),
                  LIGHT, -1)
    cv2.rectangle(parts, _pt(0, body_top + h * 0.06), _pt(max(1, w * 0.03), body_top + h * 0.06 + light_h), LIGHT, -1)
    cv2.rectangle(parts, _pt(max(1, w * 0.05), body_bottom - h * 0.2),
                  _pt(max(2, w * 0.05) + max(2, w * 0.08), body_bottom - h * 0.2 + max(1, h * 0.08)), PLATE, -1)
    for cx in (w * rng.uniform(0.18, 0.25), w * rng.uniform(0.75, 0.82)):
        cv2.circle(parts, _pt(cx, h - 1 - radius), int(round(radius)), WHEEL, -1)
    colours = {
        CHASSIS: _pick(rng, _CAR_COLOURS),
        WINDOW: _jitter(rng, (60, 80, 110), 15),
        WHEEL: _jitter(rng, (25, 25, 28), 6),
        LIGHT: _jitter(rng, (250, 235, 140), 5),
        PLATE: _jitter(rng, (235, 235, 225), 5)
    }
    rgb = _render(rng, parts, colours)
    return _flip(rng, Sprite(parts, rgb))


def draw_bus(rng: np.random.Generator, height: int) -> Sprite:
    """Side view of a bus: long chassis with a row of windows, wheels, lights and a plate."""
    h = max(int(height), 10)
    w = int(round(h * rng.uniform(2.2, 3.0)))
    parts = np.zeros((h, w), np.uint8)
    radius = max(1.5, h * rng.uniform(0.13, 0.16))
    cv2.rectangle(parts, (0, 0), _pt(w - 1, h - 1 - radius * 0.7), CHASSIS, -1)
    top, bottom = h * rng.uniform(0.1, 0.16), h * rng.uniform(0.42, 0.5)
    pane = h * rng.uniform(0.3, 0.42)
    gap = max(1.0, h * 0.06)
    x = w * 0.05
    while x + pane < w * 0.85:
        cv2.rectangle(parts, _pt(x, top), _pt(x + pane, bottom), WINDOW, -1)
        x += pane + gap
    cv2.rectangle(parts, _pt(w * 0.89, top), _pt(w - 1 - max(1, w * 0.01), h * 0.55), WINDOW, -1)
    cv2.rectangle(parts, _pt(w - max(2, w * 0.03), h * 0.62), _pt(w - 1, h * 0.62 + max(1, h * 0.08)), LIGHT, -1)
    cv2.rectangle(parts, _pt(w * 0.9, h * 0.68), _pt(w * 0.9 + max(2, w * 0.05), h * 0.68 + max(1, h * 0.07)), PLATE,
                  -1)
    for cx in (w * rng.uniform(0.14, 0.2), w * rng.uniform(0.76, 0.84)):
        cv2.circle(parts, _pt(cx, h - 1 - radius), int(round(radius)), WHEEL, -1)
    colours = {
        CHASSIS: _pick(rng, _BUS_COLOURS),
        WINDOW: _jitter(rng, (55, 75, 100), 15),
        WHEEL: _jitter(rng, (25, 25, 28), 6),
        LIGHT: _jitter(rng, (250, 235, 140), 5),
        PLATE: _jitter(rng, (235, 235, 225), 5)
    }
    rgb = _render(rng, parts, colours, shade=0.15)
    return _flip(rng, Sprite(parts, rgb))


def draw_person(rng: np.random.Generator, height: int) -> Sprite:
    """Front/side view of a walking person: head, torso, two arms, two legs."""
    h = max(int(height), 10)
    w = max(int(round(h * 0.5)), 5)
    parts = np.zeros((h, w), np.uint8)
    cx = (w - 1) / 2
    head_r = max(1.0, h * rng.uniform(0.08, 0.1))
    neck = 2 * head_r + 1
    hip = h * rng.uniform(0.52, 0.58)
    half_torso = w * rng.uniform(0.16, 0.22)
    limb = max(1, int(round(h * 0.07)))
    stride = w * rng.uniform(0.0, 0.3)
    for side in (-1, 1):
        cv2.line(parts, _pt(cx + side * half_torso * 0.5, hip), _pt(cx + side * stride, h - 1 - limb / 2), LEG,
                 limb + 1)
        swing = w * rng.uniform(0.05, 0.4)
        cv2.line(parts, _pt(cx + side * half_torso, neck + limb), _pt(cx + side * swing, hip + h * 0.05), ARM, limb)
    torso = np.array([
        _pt(cx - half_torso, neck),
        _pt(cx + half_torso, neck),
        _pt(cx + half_torso * 0.85, hip),
        _pt(cx - half_torso * 0.85, hip)
    ], np.int32)
    cv2.fillPoly(parts, [torso], TORSO)
    cv2.circle(parts, _pt(cx, head_r), int(round(head_r)), HEAD, -1)
    shirt = _pick(rng, _SHIRT_COLOURS)
    skin = _pick(rng, _SKIN_COLOURS)
    colours = {
        HEAD: skin,
        TORSO: shirt,
        ARM: skin if rng.random() < 0.5 else shirt * 0.85,
        LEG: _pick(rng, _PANTS_COLOURS)
    }
    return _flip(rng, Sprite(parts, _render(rng, parts, colours, noise=5.0)))


def _blotches(rng: np.random.Generator, shape: tuple, cells: int = 4, strength: float = 30) -> np.ndarray:
    """Low-frequency texture: coarse random grid upsampled bilinearly to ``shape``."""
    coarse = rng.normal(0, 1, (cells, cells)).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) * strength


def draw_tree(rng: np.random.Generator, height: int) -> Sprite:
    """A tree: brown trunk and a round, conical or clustered crown."""
    h = max(int(height), 10)
    w = max(int(round(h * rng.uniform(0.5, 0.75))), 5)
    parts = np.zeros((h, w), np.uint8)
    cx = (w - 1) / 2
    trunk_w = max(1.0, w * rng.uniform(0.08, 0.14))
    kind = rng.integers(3)
    crown_bottom = h * (0.72 if kind == 1 else rng.uniform(0.55, 0.65))
    cv2.rectangle(parts, _pt(cx - trunk_w, crown_bottom * 0.8), _pt(cx + trunk_w, h - 1), TRUNK, -1)
    if kind == 0:  # round
        cv2.ellipse(parts, _pt(cx, crown_bottom / 2), _pt(w / 2 - 0.5, crown_bottom / 2), 0, 0, 360, CROWN, -1)
    elif kind == 1:  # conifer
        cone = np.array([_pt(cx, 0), _pt(0, crown_bottom), _pt(w - 1, crown_bottom)], np.int32)
        cv2.fillPoly(parts, [cone], CROWN)
    else:  # cluster of three blobs
        r = w * 0.28
        for dx, dy in ((-0.22, 0.6), (0.22, 0.6), (0.0, 0.32)):
            cv2.circle(parts, _pt(cx + dx * w, crown_bottom * dy), int(round(r)), CROWN, -1)
    crown_colour = _jitter(rng, (60, 140, 50) if rng.random() < 0.85 else (210, 120, 40), 20)
    rgb = _render(rng, parts, {TRUNK: _jitter(rng, (100, 70, 40), 12), CROWN: crown_colour}).astype(np.float32)
    rgb[parts == CROWN] += _blotches(rng, parts.shape)[parts == CROWN, None]
    return _flip(rng, Sprite(parts, np.clip(rgb, 0, 255).astype(np.uint8)))


#: part-category id -> sprite drawer
SPRITE_DRAWERS: Dict[int, Callable[[np.random.Generator, int], Sprite]] = {
    24: draw_person,
    26: draw_car,
    28: draw_bus,
    101: draw_tree
}
