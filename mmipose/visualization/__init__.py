from .palette import (NUM_PART_CHANNELS, colorize_index_map, colorize_label, colorize_parts, label_palette,
                      overlay_parts, part_palette)

__all__ = [
    'NUM_PART_CHANNELS', 'colorize_index_map', 'colorize_label', 'colorize_parts', 'label_palette', 'overlay_parts',
    'part_palette'
]
