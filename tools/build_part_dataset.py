"""Build the 64x64 object part dataset (paper Sec. 4.1) from Cityscapes- and PASCAL-Panoptic-Parts.

Every object instance of a class with parts is cropped to its box (the synthesis-time crop rule of
``mmipose.datasets.toy.crops``: box + 2 px, even extents, zero-padded to a centred square, legacy
nearest resize), so PartNet is pretrained on exactly the queries it gets inside iPOSE. Output
(reference layout, read by ``PartNetDataset``)::

    <out>/<category id>/<train|val>/<name>_label.png   uint8 0/1 object shape
    <out>/<category id>/<train|val>/<name>_part.png    uint8 part indices 0..8 (0 = background)

``<name>`` = ``<source>_<image stem>_<sid>_<iid>``. Category ids: 1..20 PASCAL VOC order,
24..28 Cityscapes person, rider, car, truck, bus. Splits follow the sources: CPP train/val,
PPP training/validation. Part ids -> indices: ``mmipose.datasets.part_index_tables`` or
``--part-indices file.json`` ({"pascal"|"cityscapes": {sid: {part name: index}}}).

Example::

    python tools/build_part_dataset.py --cityscapes data/cityscapes_panoptic_parts \\
        --pascal data/pascal_panoptic_parts --out data/Full_Parts --min-size 16
"""
from mmipose.datasets.part_dataset_builder import main

if __name__ == '__main__':
    main()
