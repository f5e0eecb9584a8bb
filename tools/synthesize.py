"""Synthesize images (and part maps) from label maps with a trained iPOSE model.

Thin command line; documentation and code: :mod:`mmipose.apis.synthesize_cli` (``--help`` lists the options).
"""
from mmipose.apis.synthesize_cli import main

if __name__ == '__main__':
    main()
