from .part_transforms import LoadPartPair, PackPartInputs, RandomPartAugment, ResizePartPair  # noqa: F401
