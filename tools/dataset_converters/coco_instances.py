"""Write the COCO instance maps that ``IPOSECocoStuffDataset`` reads, from ``instances_<split>.json``.

Thin command line; documentation and code:
:mod:`mmipose.datasets.converters.coco_instances` (``--help`` lists the options).
"""
from mmipose.datasets.converters.coco_instances import main

if __name__ == '__main__':
    main()
