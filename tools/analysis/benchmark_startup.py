"""Time to the first image and peak memory of a fresh process per backend (eager, OpenVINO cold / warm cache).

Thin command line; documentation and code: :mod:`mmipose.deploy.startup` (``--help`` lists the options).
"""
from mmipose.deploy.startup import main

if __name__ == '__main__':
    main()
