// The painter's label canvas: class ids and instance values painted at the model's resolution.
// Pixels are set directly (no anti-aliasing), the view is the id map scaled up without smoothing,
// object outlines are drawn one screen pixel wide. window.ipaint is what the gradio page calls:
// init(), exportState() (lossless PNG data URLs + the selected object), load(json).
(function () {
  'use strict';
  const OFFSET = 1000;  // object value = class id * 1000 + k
  const S = {};

  function el(tag, attrs, parent) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === 'text') node.textContent = v; else node.setAttribute(k, v);
    });
    if (parent) parent.appendChild(node);
    return node;
  }

  function isThing(cls) { return S.things.indexOf(cls) >= 0; }

  function nextObject(cls) {
    let k = 0;
    for (let i = 0; i < S.inst.length; i++) {
      if (Math.floor(S.inst[i] / OFFSET) === cls) k = Math.max(k, S.inst[i] % OFFSET);
    }
    return cls * OFFSET + k + 1;
  }

  function describe(value) {
    if (!value) return 'none';
    const cls = Math.floor(value / OFFSET);
    return (S.names[cls] || 'class ' + cls) + ' #' + (value % OFFSET) + ' (' + value + ')';
  }

  function setStatus() {
    S.status.textContent = 'class: ' + S.names[S.cls] + ' | tool: ' + S.tool + ' | brush: ' + S.radius +
      ' | selected object: ' + describe(S.selected);
    S.root.setAttribute('data-selected', String(S.selected || 0));
  }

  function render() {
    const img = S.small.createImageData(S.w, S.h);
    for (let i = 0; i < S.label.length; i++) {
      const c = S.palette[S.label[i]] || [0, 0, 0];
      img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
    }
    S.small.putImageData(img, 0, 0);
    const ctx = S.view;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(S.smallCanvas, 0, 0, S.canvas.width, S.canvas.height);
    // object outlines: an edge between two pixels with different values where one is an object
    const sx = S.canvas.width / S.w, sy = S.canvas.height / S.h;
    const edge = (a, b) => a !== b && (a >= OFFSET || b >= OFFSET);
    const sel = (a, b) => !!S.selected && (a === S.selected || b === S.selected);
    [[false, 'rgba(255,255,255,0.9)'], [true, '#ffd400']].forEach(([selected, colour]) => {
      ctx.beginPath();
      for (let y = 0; y < S.h; y++) {
        for (let x = 0; x < S.w; x++) {
          const a = S.inst[y * S.w + x];
          if (x + 1 < S.w) {
            const b = S.inst[y * S.w + x + 1];
            if (edge(a, b) && sel(a, b) === selected) { ctx.moveTo((x + 1) * sx, y * sy); ctx.lineTo((x + 1) * sx, (y + 1) * sy); }
          }
          if (y + 1 < S.h) {
            const b = S.inst[(y + 1) * S.w + x];
            if (edge(a, b) && sel(a, b) === selected) { ctx.moveTo(x * sx, (y + 1) * sy); ctx.lineTo((x + 1) * sx, (y + 1) * sy); }
          }
        }
      }
      ctx.strokeStyle = colour; ctx.lineWidth = selected ? 2 : 1; ctx.stroke();
    });
    setStatus();
  }

  function pixelAt(event) {
    const r = S.canvas.getBoundingClientRect();
    const x = Math.floor((event.clientX - r.left) / r.width * S.w);
    const y = Math.floor((event.clientY - r.top) / r.height * S.h);
    return [Math.min(Math.max(x, 0), S.w - 1), Math.min(Math.max(y, 0), S.h - 1)];
  }

  function stamp(cx, cy, cls, value) {
    const r = S.radius - 0.5;
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        if (x < 0 || y < 0 || x >= S.w || y >= S.h) continue;
        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r + 0.25) continue;
        S.label[y * S.w + x] = cls; S.inst[y * S.w + x] = value;
      }
    }
  }

  function line(a, b, cls, value) {
    const n = Math.max(Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]), 1);
    for (let i = 0; i <= n; i++) {
      stamp(Math.round(a[0] + (b[0] - a[0]) * i / n), Math.round(a[1] + (b[1] - a[1]) * i / n), cls, value);
    }
  }

  function fill(x, y, cls, value) {
    const start = y * S.w + x, fromL = S.label[start], fromI = S.inst[start];
    if (fromL === cls && fromI === value) return;
    const stack = [start], seen = new Uint8Array(S.w * S.h);
    seen[start] = 1;
    while (stack.length) {
      const i = stack.pop();
      S.label[i] = cls; S.inst[i] = value;
      const px = i % S.w, py = (i - px) / S.w;
      [[px - 1, py], [px + 1, py], [px, py - 1], [px, py + 1]].forEach(([nx, ny]) => {
        if (nx < 0 || ny < 0 || nx >= S.w || ny >= S.h) return;
        const j = ny * S.w + nx;
        if (!seen[j] && S.label[j] === fromL && S.inst[j] === fromI) { seen[j] = 1; stack.push(j); }
      });
    }
  }

  // the object value a new stroke / fill of the current class paints with
  function strokeValue() {
    if (S.tool === 'eraser' || !isThing(S.cls)) return 0;
    const current = S.selected && Math.floor(S.selected / OFFSET) === S.cls;
    return (S.newObject.checked || !current) ? nextObject(S.cls) : S.selected;
  }

  function down(event) {
    if (event.button !== 0) return;
    event.preventDefault();
    const p = pixelAt(event);
    if (S.tool === 'select') {
      const v = S.inst[p[1] * S.w + p[0]];
      S.selected = v >= OFFSET ? v : 0;
      render();
      return;
    }
    const cls = S.tool === 'eraser' ? S.eraseClass : S.cls;
    const value = strokeValue();
    if (S.tool === 'fill') {
      fill(p[0], p[1], cls, value);
    } else {
      S.drawing = {cls: cls, value: value, last: p};
      stamp(p[0], p[1], cls, value);
    }
    if (value) S.selected = value;
    render();
  }

  function move(event) {
    if (!S.drawing) return;
    const p = pixelAt(event);
    line(S.drawing.last, p, S.drawing.cls, S.drawing.value);
    S.drawing.last = p;
    render();
  }

  function up() { S.drawing = null; }

  function pngOf(writePixel) {
    const c = document.createElement('canvas');
    c.width = S.w; c.height = S.h;
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(S.w, S.h);
    for (let i = 0; i < S.label.length; i++) { writePixel(img.data, 4 * i, i); img.data[4 * i + 3] = 255; }
    ctx.putImageData(img, 0, 0);
    return c.toDataURL('image/png');
  }

  function exportState() {
    const label = pngOf((d, o, i) => { const c = S.palette[S.label[i]] || [0, 0, 0]; d[o] = c[0]; d[o + 1] = c[1]; d[o + 2] = c[2]; });
    const inst = pngOf((d, o, i) => { d[o] = (S.inst[i] >> 8) & 255; d[o + 1] = S.inst[i] & 255; d[o + 2] = 0; });
    return JSON.stringify({height: S.h, width: S.w, label: label, inst: inst, selected: S.selected || 0});
  }

  function decode(b64, Type) {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    return new Type(bytes.buffer);
  }

  function resize(h, w) {
    S.h = h; S.w = w;
    S.label = new Uint16Array(h * w); S.inst = new Int32Array(h * w);
    S.smallCanvas.width = w; S.smallCanvas.height = h;
    const scale = Math.max(1, Math.floor(S.displayWidth / w));
    S.canvas.width = w * scale; S.canvas.height = h * scale;
  }

  function load(json) {
    if (!json) return;
    const data = typeof json === 'string' ? JSON.parse(json) : json;
    if (data.height !== S.h || data.width !== S.w) resize(data.height, data.width);
    S.label.set(decode(data.label, Uint16Array));
    S.inst.set(decode(data.inst, Int32Array));
    S.selected = 0;
    render();
  }

  function init() {
    const root = document.getElementById('ipaint-root');
    if (!root || root.getAttribute('data-ready')) return;
    const cfg = JSON.parse(root.getAttribute('data-config'));
    Object.assign(S, {root: root, names: cfg.classes, palette: cfg.palette, things: cfg.things, cls: cfg.initial_class,
                      eraseClass: cfg.erase_class, tool: 'brush', radius: cfg.radius, selected: 0,
                      displayWidth: cfg.display_width, drawing: null});
    const bar = el('div', {class: 'ipaint-bar'}, root);
    cfg.classes.forEach((name, id) => {
      if (id === cfg.erase_class && cfg.hide_erase_class) return;
      const b = el('button', {type: 'button', class: 'ipaint-class', id: 'ipaint-class-' + id, 'data-class': id,
                              title: name + (isThing(id) ? ' (objects)' : '')}, bar);
      const c = cfg.palette[id];
      el('span', {class: 'ipaint-swatch', style: 'background: rgb(' + c.join(',') + ')'}, b);
      el('span', {text: name + (isThing(id) ? ' \u25C6' : '')}, b);
      b.addEventListener('click', () => {
        S.cls = id; if (S.tool === 'eraser' || S.tool === 'select') setTool('brush');
        bar.querySelectorAll('.ipaint-class').forEach((x) => x.classList.toggle('active', x === b));
        setStatus();
      });
      if (id === S.cls) b.classList.add('active');
    });
    const tools = el('div', {class: 'ipaint-bar'}, root);
    const setTool = (t) => {
      S.tool = t;
      tools.querySelectorAll('.ipaint-tool').forEach((x) => x.classList.toggle('active', x.getAttribute('data-tool') === t));
      setStatus();
    };
    [['brush', 'Brush'], ['fill', 'Fill'], ['eraser', 'Eraser'], ['select', 'Select object']].forEach(([t, text]) => {
      const b = el('button', {type: 'button', class: 'ipaint-tool', id: 'ipaint-tool-' + t, 'data-tool': t, text: text}, tools);
      b.addEventListener('click', () => setTool(t));
    });
    const sizeLabel = el('label', {class: 'ipaint-size', text: 'brush size '}, tools);
    const size = el('input', {type: 'range', min: '1', max: String(cfg.max_radius), value: String(cfg.radius),
                               id: 'ipaint-size'}, sizeLabel);
    size.addEventListener('input', () => { S.radius = parseInt(size.value, 10); setStatus(); });
    const newLabel = el('label', {class: 'ipaint-new', text: ' new object per stroke'}, tools);
    S.newObject = el('input', {type: 'checkbox', id: 'ipaint-new-object'}, null);
    S.newObject.checked = true;
    newLabel.prepend(S.newObject);
    S.canvas = el('canvas', {id: 'ipaint-canvas', class: 'ipaint-canvas'}, root);
    S.view = S.canvas.getContext('2d');
    S.smallCanvas = document.createElement('canvas');
    S.small = S.smallCanvas.getContext('2d');
    S.status = el('div', {class: 'ipaint-status', id: 'ipaint-status'}, root);
    resize(cfg.height, cfg.width);
    S.label.fill(cfg.initial_fill);
    S.canvas.addEventListener('mousedown', down);
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
    setTool('brush');
    root.setAttribute('data-ready', '1');
    render();
  }

  window.ipaint = {init: init, exportState: exportState, load: load,
                   selected: () => S.selected || 0, ready: () => !!(S.root && S.root.getAttribute('data-ready'))};
})();
