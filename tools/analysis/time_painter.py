"""Response time of the painter's two model calls: one synthesis and one object redraw.

Random weights (generator and PartNet) and synthetic k=3 support maps per part category, so no
file is needed; the scene is sky over road with two touching cars at the canvas size of the
config. Prints the median and minimum of ``--repeats`` calls after one warm-up, and the load.

Example::

    python tools/analysis/time_painter.py configs/toy/ipose_tiny_1xb4-600iters_toy-64x128.py --threads 2
    python tools/analysis/time_painter.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py --threads 2
"""
from mmipose.painter.timing import main

if __name__ == '__main__':
    main()
