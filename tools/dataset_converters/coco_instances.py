"""Write the COCO instance maps that ``IPOSECocoStuffDataset`` reads, from ``instances_<split>.json``.

Format: one 16-bit grayscale PNG per image, named like the image (``.png``)::

    <out_dir>/<split>/<image stem>.png    uint16, 0 = no object,
                                          category_id * 256 + k  (k = 1..255: the k-th instance
                                          of that category in the image, annotation-id order)

So ``value // 256`` is the COCO category id (the dataset config's
``InstanceClassFromId(divisor=256)``) and ``value % 256`` the instance number. Every id is >= 257,
so instance ids never collide with COCO-Stuff label values (0..182), unlike the reference's maps
(SPADE's script copies the label map and overwrites it with a running counter); ``category * 1000``
would not fit 16 bits (category ids go up to 90).

Overlaps: instances are drawn largest first, so a small object lying on a larger one stays
visible. Crowd regions (``iscrowd=1``: many objects in one mask) are not objects and are skipped
unless ``--include-crowd``.

Example::

    python tools/dataset_converters/coco_instances.py data/coco --splits train2017 val2017 --nproc 8
"""
from mmipose.datasets.converters.coco_instances import main

if __name__ == '__main__':
    main()
