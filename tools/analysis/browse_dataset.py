"""Look at dataset samples after the config's pipeline before a long run.

Per sample: the image with the object boxes, the label map (dataset palette), the objects of the
instance map (each in its box's colour), the 64x64 object masks PartNet sees and, where the dataset has
them (toy scenes), the ground-truth part maps. For PartNet's part dataset: object shape and part map.

Examples::

    python tools/analysis/browse_dataset.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py \\
        --split val --num 8 --grid work_dirs/browse_cityscapes.png
    python tools/analysis/browse_dataset.py CONFIG --out work_dirs/browse/   # one PNG per sample
    python tools/analysis/browse_dataset.py CONFIG --cfg-options train_dataloader.dataset.data_root=/data/x
"""
from mmipose.apis.dataset_cli import browse_dataset_main

if __name__ == '__main__':
    browse_dataset_main()
