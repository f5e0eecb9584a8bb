"""Build the 64x64 object part dataset (paper Sec. 4.1) from Cityscapes- and PASCAL-Panoptic-Parts.

Thin command line; documentation and code: :mod:`mmipose.datasets.part_dataset_builder` (``--help`` lists the options).
"""
from mmipose.datasets.part_dataset_builder import main

if __name__ == '__main__':
    main()
