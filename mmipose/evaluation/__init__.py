from .part_accuracy import PartAccuracy  # noqa: F401
