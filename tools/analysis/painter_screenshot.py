"""Screenshot of the painter (docs/demo/painter.png) taken by headless Chromium after a synthesis and a part edit.

Serves ``demo/ipose_painter.py`` (the ``make demo`` model by default) on a free local port, loads a
validation scene, synthesizes, turns the car wheels into chassis in the supports (re-synthesis with
the same noise) and saves the page, scaled to ``--scale``. Needs Debian's ``chromium`` and
``chromium-driver`` and selenium (no browser download).

Example::

    python tools/analysis/painter_screenshot.py --out docs/demo/painter.png            # after `make demo`
    python tools/analysis/painter_screenshot.py --painter-args CONFIG CHECKPOINT --out shot.png
"""
from mmipose.painter.screenshot import main

if __name__ == '__main__':
    main()
