"""The paper's claim in miniature: iPOSE vs the OASIS baseline on the toy street scenes.

Thin command line; documentation and code: :mod:`mmipose.toy.ablation` (``--help`` lists the options).
"""
from mmipose.toy.ablation import main

if __name__ == '__main__':
    main()
