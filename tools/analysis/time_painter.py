"""Response time of the painter's two model calls: one synthesis and one object redraw.

Thin command line; documentation and code: :mod:`mmipose.painter.timing` (``--help`` lists the options).
"""
from mmipose.painter.timing import main

if __name__ == '__main__':
    main()
