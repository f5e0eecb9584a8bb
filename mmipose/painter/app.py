"""The painter page: a gradio Blocks app over a :class:`PainterSession`.

The label canvas is a small HTML canvas (``static/painter.js``): class ids and instance values
are painted at the model's resolution with pixel-exact brushes, and handed to the server as
lossless PNGs (colours snapped to the palette there, see :mod:`.label_canvas`). Every handler
catches its errors and writes them into the page's message line; the server keeps running.
"""
import json
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from .label_canvas import INSTANCE_OFFSET, canvas_payload, decode_image, parse_instance_image, parse_label_image
from .session import PainterSession, replace_part, result_pictures, support_picture, write_result_files

STATIC = osp.join(osp.dirname(osp.abspath(__file__)), 'static')
ALL_PARTS = -1  # "every part" in the part-replacement menu

CSS = """
#ipaint-root .ipaint-bar {display: flex; flex-wrap: wrap; gap: 4px; margin-bottom: 6px; align-items: center}
#ipaint-root button {border: 1px solid #bbb; border-radius: 6px; padding: 3px 8px; background: #f6f6f6;
                     display: inline-flex; align-items: center; gap: 5px; font-size: 13px; color: #222}
#ipaint-root button.active {border: 2px solid #ff7a00; background: #fff1e0}
#ipaint-root .ipaint-swatch {width: 14px; height: 14px; border: 1px solid #444; display: inline-block}
#ipaint-root .ipaint-canvas {border: 1px solid #888; cursor: crosshair; max-width: 100%; image-rendering: pixelated}
#ipaint-root .ipaint-status {font-size: 12px; color: #444; margin-top: 4px}
#ipaint-root label {font-size: 13px; margin-left: 8px; color: #222}
#ipaint-root input[type=checkbox] {appearance: auto; -webkit-appearance: checkbox; width: 14px; height: 14px}
.ipaint-pixelated img {width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated}
"""

HEAD_TEMPLATE = """<script>
{painter_js}
// the canvas's HTML arrives with the page's components: initialise it as soon as it is there
(function wait() {{ if (document.getElementById('ipaint-root')) window.ipaint.init(); else setTimeout(wait, 50); }})();
</script>"""

REGIONS = [('whole image', 'global'), ('selected object', 'object'), ('one part of the selected object', 'part')]
REGIONS_BY_KIND = [(kind, name) for name, kind in REGIONS]


def _part_choices(session: PainterSession) -> List[Tuple[str, int]]:
    """(label, part id) of the part ids 1..8 with the names the dataset gives them."""
    choices = []
    for part in range(1, 9):
        names = sorted({names[part - 1] for names in session.table.part_names.values() if len(names) >= part})
        choices.append((f'{part}: {" / ".join(names)}' if names else f'part {part}', part))
    return choices


def parse_canvas(session: PainterSession, canvas_json: str) -> Tuple[np.ndarray, np.ndarray, int, List[str]]:
    """The canvas's export -> (label ids, instance map, selected object value, messages)."""
    if not canvas_json:
        raise ValueError('the canvas sent nothing; reload the page.')
    try:
        data = json.loads(canvas_json)
    except json.JSONDecodeError as error:
        raise ValueError(f'the canvas sent unreadable data ({error}).') from None
    label = parse_label_image(
        decode_image(data['label'], 'canvas label'),
        session.table.palette,
        len(session.table.names),
        session.size,
        source='canvas')
    inst = parse_instance_image(decode_image(data['inst'], 'canvas instances'), session.size, source='canvas objects')
    return (label.array, session.instances(label.array, inst.array), int(data.get('selected')
                                                                         or 0), label.messages + inst.messages)


def _summary(session: PainterSession, label: np.ndarray, inst: np.ndarray) -> str:
    values = sorted(v for v in np.unique(inst).tolist() if v >= INSTANCE_OFFSET)
    names = [f'{session.table.names[v // INSTANCE_OFFSET]} #{v % INSTANCE_OFFSET}' for v in values]
    text = f'{len(values)} object{"" if len(values) == 1 else "s"}'
    if names:
        text += f' ({", ".join(names[:12])}{"..." if len(names) > 12 else ""})'
    return text


def _error(message: str) -> str:
    return f'<span style="color:#c00">**Error:** {message}</span>'


def build_app(session: PainterSession, title: str = 'iPOSE painter'):
    """The gradio Blocks of the painter (call ``.launch()`` on it).

    Args:
        session (PainterSession): the model and its tables.
        title (str): page title.

    Returns:
        gradio.Blocks
    """
    import gradio as gr

    with open(osp.join(STATIC, 'painter.js')) as f:
        head = HEAD_TEMPLATE.format(painter_js=f.read())
    table = session.table
    height, width = session.size
    erase_class = 0
    config = dict(
        classes=table.names,
        palette=table.palette.tolist(),
        things=table.object_classes,
        initial_class=next((c for c in range(1, len(table.names)) if c not in table.object_classes), 0),
        erase_class=erase_class,
        hide_erase_class=False,
        height=height,
        width=width,
        radius=max(1, width // 40),
        max_radius=max(4, width // 8),
        display_width=768 if width <= 256 else 1024,
        initial_fill=erase_class)
    canvas_html = f"<div id='ipaint-root' data-config='{json.dumps(config)}'></div>"
    skip = gr.skip

    with gr.Blocks(title=title, css=CSS, head=head, analytics_enabled=False) as app:
        state = gr.State(dict(result=None, edits={}, redraws=0))
        gr.Markdown(f'## {title}\nModel: `{session.config}` with `{session.checkpoint}` - canvas {height}x{width}. '
                    'Paint with one class per brush (classes marked \u25C6 have objects and parts), then '
                    '**Synthesize**. docs/painter.md explains every control.')
        if session.load_error:
            gr.Markdown(_error(session.load_error), elem_id='ipaint-load-error')
        with gr.Row():
            with gr.Column(scale=3):
                gr.HTML(canvas_html)
                with gr.Row():
                    synthesize = gr.Button('Synthesize', variant='primary', elem_id='ipaint-synthesize')
                    seed = gr.Number(value=0, precision=0, label='noise seed', minimum=0, elem_id='ipaint-seed')
            with gr.Column(scale=2):
                image = gr.Image(
                    label='synthesized',
                    format='png',
                    type='numpy',
                    interactive=False,
                    height=240,
                    elem_id='ipaint-image',
                    elem_classes='ipaint-pixelated')
                parts = gr.Image(
                    label='predicted parts (overlay)',
                    format='png',
                    type='numpy',
                    interactive=False,
                    height=240,
                    elem_id='ipaint-parts',
                    elem_classes='ipaint-pixelated')
        message = gr.Markdown('Ready.', elem_id='ipaint-message')
        with gr.Row():
            label_view = gr.Image(
                label='label map',
                format='png',
                interactive=False,
                height=180,
                elem_id='ipaint-label',
                elem_classes='ipaint-pixelated')
            inst_view = gr.Image(
                label='objects',
                format='png',
                interactive=False,
                height=180,
                elem_id='ipaint-instances',
                elem_classes='ipaint-pixelated')
            files = gr.File(
                label='lossless PNGs: image, part ids, label ids, instance values (16-bit)',
                file_count='multiple',
                interactive=False,
                elem_id='ipaint-files')
        with gr.Accordion('Redraw the noise (multi-modal synthesis)', open=True):
            with gr.Row():
                region = gr.Radio(REGIONS, value='object', label='where', elem_id='ipaint-region')
                part = gr.Dropdown(
                    _part_choices(session),
                    value=5 if len(table.part_names) else 1,
                    label='part (for "one part")',
                    elem_id='ipaint-redraw-part')
                redraw = gr.Button('Redraw', elem_id='ipaint-redraw')
        with gr.Accordion('Part editing through the supports', open=True):
            categories = [(table.category_label(c), c) for c in session.support_categories]
            part_options = [('every part', ALL_PARTS), ('0: background', 0)] + _part_choices(session)
            with gr.Row():
                # the paper's example (Fig. 6) is the car (category 26 in Cityscapes and the toy data)
                default = 26 if 26 in session.support_categories else (categories[0][1] if categories else None)
                category = gr.Dropdown(categories, value=default, label='part category', elem_id='ipaint-category')
                source_part = gr.Dropdown(part_options, value=2, label='replace part', elem_id='ipaint-from-part')
                target_part = gr.Dropdown(part_options[1:], value=5, label='by part', elem_id='ipaint-to-part')
                replace = gr.Button('Replace in the supports and re-synthesize', elem_id='ipaint-part-edit')
            with gr.Row():
                support_files = gr.File(
                    label='or upload k support part maps (PNG part ids 0..8)',
                    file_count='multiple',
                    file_types=['.png'],
                    elem_id='ipaint-support-upload')
                use_uploaded = gr.Button('Use the uploaded supports', elem_id='ipaint-support-use')
                reset = gr.Button('Reset the supports', elem_id='ipaint-support-reset')
            supports_view = gr.Image(
                label='supports: original (top) / in use (bottom)',
                format='png',
                interactive=False,
                height=300,
                elem_id='ipaint-supports',
                elem_classes='ipaint-pixelated')
            with gr.Row():
                before_parts = gr.Image(
                    label='before: parts',
                    format='png',
                    interactive=False,
                    height=160,
                    elem_id='ipaint-before-parts',
                    elem_classes='ipaint-pixelated')
                after_parts = gr.Image(
                    label='after: parts',
                    format='png',
                    interactive=False,
                    height=160,
                    elem_id='ipaint-after-parts',
                    elem_classes='ipaint-pixelated')
                before_image = gr.Image(
                    label='before: image',
                    format='png',
                    interactive=False,
                    height=160,
                    elem_id='ipaint-before-image',
                    elem_classes='ipaint-pixelated')
                after_image = gr.Image(
                    label='after: image',
                    format='png',
                    interactive=False,
                    height=160,
                    elem_id='ipaint-after-image',
                    elem_classes='ipaint-pixelated')
        with gr.Accordion('Start from a validation scene, a blank canvas or an upload', open=False):
            with gr.Row():
                scene_index = gr.Number(
                    value=0, precision=0, minimum=0, label='validation scene', elem_id='ipaint-scene')
                load_scene = gr.Button('Load the scene', elem_id='ipaint-load-scene')
                blank_class = gr.Dropdown([(name, i) for i, name in enumerate(table.names)],
                                          value=erase_class,
                                          label='blank canvas filled with',
                                          elem_id='ipaint-blank-class')
                blank = gr.Button('Blank canvas', elem_id='ipaint-blank')
            with gr.Row():
                label_file = gr.File(
                    label='label map (PNG: 8/16-bit ids or palette colours)',
                    file_types=['image'],
                    elem_id='ipaint-label-upload')
                inst_file = gr.File(
                    label='instance map (optional, 16-bit PNG)', file_types=['image'], elem_id='ipaint-inst-upload')
                load_upload = gr.Button('Load the upload', elem_id='ipaint-load-upload')
        canvas_json = gr.Textbox(visible=False)
        load_json = gr.Textbox(visible=False)

        load_js = '(payload) => { window.ipaint.load(payload); }'

        # ------------------------------------------------------------ handlers
        def show(result, run: dict, text: str):
            pictures = result_pictures(result, table)
            return (pictures['image'], pictures['parts'], pictures['label'], pictures['instances'],
                    write_result_files(result), text, run)

        def on_synthesize(canvas: str, seed_value, run: dict):
            try:
                label, inst, _, notes = parse_canvas(session, canvas)
                if (label == erase_class).all():
                    raise ValueError('the canvas is empty: paint some classes first (or start from a validation '
                                     'scene below).')
                unlabelled = int((label == erase_class).sum())
                if unlabelled and erase_class == 0:
                    notes.append(f'{unlabelled} pixels are unlabelled ({table.names[0]}).')
                start = time.perf_counter()
                result = session.synthesize(label, inst, seed=int(seed_value or 0), edits=run['edits'])
                seconds = time.perf_counter() - start
                run = dict(run, result=result, redraws=0)
                text = (f'Synthesized {height}x{width} in {seconds:.2f} s (seed {int(seed_value or 0)}); '
                        f'{_summary(session, label, inst)}. ' + ' '.join(notes))
                return show(result, run, text)
            except Exception as error:  # noqa: BLE001 (shown in the page)
                return (skip(), ) * 5 + (_error(str(error)), skip())

        def on_redraw(kind: str, part_id, canvas: str, run: dict):
            try:
                if run.get('result') is None:
                    raise ValueError('synthesize first; a redraw changes the noise of the last synthesis.')
                selected = int(json.loads(canvas).get('selected') or 0) if canvas else 0
                redraws = run['redraws'] + 1
                start = time.perf_counter()
                result = session.redraw(
                    run['result'],
                    kind,
                    selected,
                    None if part_id is None else int(part_id),
                    seed=int(1000 + redraws),
                    edits=run['edits'])
                seconds = time.perf_counter() - start
                where = dict(REGIONS_BY_KIND)[kind]
                if kind != 'global':
                    where += f' {table.names[selected // INSTANCE_OFFSET]} #{selected % INSTANCE_OFFSET}'
                if kind == 'part':
                    where += f', part {part_id}'
                text = f'Redrew the noise of the {where} in {seconds:.2f} s (redraw {redraws}).'
                return show(result, dict(run, result=result, redraws=redraws), text)
            except Exception as error:  # noqa: BLE001
                return (skip(), ) * 5 + (_error(str(error)), skip())

        def edit_supports(run: dict, category_id, edits: Dict[int, np.ndarray], what: str):
            if run.get('result') is None:
                raise ValueError('synthesize first; the part edit re-synthesizes the last synthesis with the same '
                                 'noise.')
            before = run['result']
            start = time.perf_counter()
            after = session.synthesize(before.label, before.inst, edits=edits, noise=(before.z, before.z_part))
            seconds = time.perf_counter() - start
            changed = int((after.parts != before.parts).sum())
            original = session.supports_of(category_id)
            in_use = session.supports_of(category_id, edits)
            top = support_picture(original)
            strip = np.concatenate([top, np.full((6, top.shape[1], 3), 255, np.uint8), support_picture(in_use)])
            pb, pa = result_pictures(before, table), result_pictures(after, table)
            text = (f'{what}; re-synthesized with the same noise in {seconds:.2f} s: {changed} pixels changed part.')
            run = dict(run, result=after, edits=edits)
            return (pa['image'], pa['parts'], write_result_files(after), strip, pb['parts'], pa['parts'], pb['image'],
                    pa['image'], text, run)

        def on_replace(category_id, source, target, run: dict):
            try:
                if category_id is None:
                    raise ValueError('the model has no part categories with supports.')
                category_id, source, target = int(category_id), int(source), int(target)
                maps = session.supports_of(category_id, run['edits'])
                if source == ALL_PARTS:
                    edited = np.where(maps > 0, target, maps)
                    what = f'every part -> {target} in the supports of category {category_id}'
                else:
                    edited = replace_part(maps, source, target)
                    what = f'part {source} -> {target} in the supports of category {category_id}'
                return edit_supports(run, category_id, {**run['edits'], category_id: edited}, what)
            except Exception as error:  # noqa: BLE001
                return (skip(), ) * 8 + (_error(str(error)), skip())

        def on_use_uploaded(category_id, paths, run: dict):
            try:
                if not paths:
                    raise ValueError('upload the support part maps first (k single-channel PNGs of part ids).')
                from mmipose.apis.inferencer import read_index_map
                maps = session.support_upload(int(category_id), [read_index_map(p, osp.basename(p)) for p in paths])
                return edit_supports(run, int(category_id), {
                    **run['edits'], int(category_id): maps
                }, f'{len(maps)} uploaded supports for category {category_id}')
            except Exception as error:  # noqa: BLE001
                return (skip(), ) * 8 + (_error(str(error)), skip())

        def on_reset(category_id, run: dict):
            try:
                edits = {k: v for k, v in run['edits'].items() if k != int(category_id)}
                return edit_supports(run, int(category_id), edits, f'original supports of category {category_id}')
            except Exception as error:  # noqa: BLE001
                return (skip(), ) * 8 + (_error(str(error)), skip())

        def on_scene(index):
            try:
                label, inst, notes = session.validation_scene(int(index or 0))
                return json.dumps(canvas_payload(label, inst)), 'Loaded ' + ', '.join(notes) + '.'
            except Exception as error:  # noqa: BLE001
                return skip(), _error(str(error))

        def on_blank(class_id):
            label = np.full(session.size, int(class_id or 0), np.int64)
            inst = session.instances(label)
            return json.dumps(canvas_payload(label, inst)), f'Blank canvas ({table.names[int(class_id or 0)]}).'

        def on_upload(label_path: Optional[str], inst_path: Optional[str]):
            try:
                if not label_path:
                    raise ValueError('choose a label map to upload first.')
                parsed = parse_label_image(
                    decode_image(label_path, 'label map'),
                    table.palette,
                    len(table.names),
                    session.size,
                    source=osp.basename(label_path))
                notes = list(parsed.messages)
                inst = None
                if inst_path:
                    inst_parsed = parse_instance_image(
                        decode_image(inst_path, 'instance map'), session.size, source=osp.basename(inst_path))
                    notes += inst_parsed.messages
                    inst = inst_parsed.array
                inst = session.instances(parsed.array, inst)
                text = f'Loaded {osp.basename(label_path)}: {_summary(session, parsed.array, inst)}. ' + ' '.join(notes)
                return json.dumps(canvas_payload(parsed.array, inst)), text
            except Exception as error:  # noqa: BLE001
                return skip(), _error(str(error))

        show_outputs = [image, parts, label_view, inst_view, files, message, state]
        edit_outputs = [
            image, parts, files, supports_view, before_parts, after_parts, before_image, after_image, message, state
        ]
        # the canvas's export replaces the hidden textbox's value before the handler runs
        synthesize.click(
            on_synthesize, [canvas_json, seed, state],
            show_outputs,
            js='(canvas, seed, run) => [window.ipaint.exportState(), seed, run]')
        redraw.click(
            on_redraw, [region, part, canvas_json, state],
            show_outputs,
            js='(region, part, canvas, run) => [region, part, window.ipaint.exportState(), run]')
        replace.click(on_replace, [category, source_part, target_part, state], edit_outputs)
        use_uploaded.click(on_use_uploaded, [category, support_files, state], edit_outputs)
        reset.click(on_reset, [category, state], edit_outputs)
        for button, handler, inputs in ((load_scene, on_scene, [scene_index]), (blank, on_blank, [blank_class]),
                                        (load_upload, on_upload, [label_file, inst_file])):
            button.click(handler, inputs, [load_json, message]).then(None, [load_json], None, js=load_js)
    return app
