"""A browser painter for part-aware synthesis (demo/ipose_painter.py): paint a label map, synthesize,
redraw objects and parts, edit parts through the supports. gradio is needed only by :mod:`.app`."""
from .label_canvas import (ParsedMap, assign_instances, canvas_payload, decode_image, encode_png, parse_instance_image,
                           parse_label_image, resize_nearest, snap_to_palette)
from .session import ClassTable, PainterSession, canvas_size, class_table, demo_model_files, replace_part

__all__ = [
    'ParsedMap', 'assign_instances', 'canvas_payload', 'decode_image', 'encode_png', 'parse_instance_image',
    'parse_label_image', 'resize_nearest', 'snap_to_palette', 'ClassTable', 'PainterSession', 'canvas_size',
    'class_table', 'demo_model_files', 'replace_part'
]
