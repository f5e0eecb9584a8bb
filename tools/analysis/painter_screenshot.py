"""Screenshot of the painter (docs/demo/painter.png) taken by headless Chromium after a synthesis and a part edit.

Thin command line; documentation and code: :mod:`mmipose.painter.screenshot` (``--help`` lists the options).
"""
from mmipose.painter.screenshot import main

if __name__ == '__main__':
    main()
