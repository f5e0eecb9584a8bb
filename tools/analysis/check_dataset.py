"""Scan every sample of a config's datasets once before a long run, and exit non-zero on bad data.

Prints per split: images, objects per part category and per image, object sizes, label ids seen
against the config's classes, the instance-map format found (16-bit class*256+k, Cityscapes
class*1000+k, 8-bit per-image ids, ADE20K RGB), and the problems that would train wrongly (missing or
unreadable files, image / map size mismatches, an instance format the pipeline does not expect, label
ids outside the classes, no objects at all), each naming the file. Exit status 1 when there is one.

Examples::

    python tools/analysis/check_dataset.py configs/ipose/ipose_4xb7-2112kiters_coco-stuff-256x256.py \\
        --split train val --workers 8
    python tools/analysis/check_dataset.py CONFIG --cfg-options val_dataloader.dataset.data_root=/data/x
"""
import sys

from mmipose.apis.dataset_cli import check_dataset_main

if __name__ == '__main__':
    sys.exit(check_dataset_main())
