"""Convert the authors' released iPOSE checkpoints into an mmipose (MMEngine-style) checkpoint.

Thin command line; documentation and code:
:mod:`mmipose.utils.convert_official_checkpoint` (``--help`` lists the options).
"""
from mmipose.utils.convert_official_checkpoint import main

if __name__ == '__main__':
    main()
