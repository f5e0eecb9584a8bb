"""Toy street scenes with part structure: drawing, cropping and cached generation."""
from .crops import expand_box, mask_box, object_crop, square_crop
from .generate import prepare_toy_data, read_manifest
from .scene import ToyScene, draw_scene
from .spec import (TOY_BASIS_CATEGORIES, TOY_CLASSES, TOY_NOVEL_CATEGORIES, TOY_PALETTE, TOY_PART_CATEGORIES,
                   TOY_PART_NAMES, toy_metainfo)

__all__ = [
    'expand_box', 'mask_box', 'object_crop', 'square_crop', 'prepare_toy_data', 'read_manifest', 'ToyScene',
    'draw_scene', 'TOY_BASIS_CATEGORIES', 'TOY_CLASSES', 'TOY_NOVEL_CATEGORIES', 'TOY_PALETTE', 'TOY_PART_CATEGORIES',
    'TOY_PART_NAMES', 'toy_metainfo'
]
