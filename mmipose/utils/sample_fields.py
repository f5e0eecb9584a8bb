"""Read a field from model outputs in either of their two forms (DataSample or its dict)."""
from typing import Any, Optional


def sample_field(sample: Optional[Any], key: str) -> Any:
    """``key`` of an MMagic ``DataSample`` (data field first, then metainfo) or of its ``to_dict()`` form.

    Metrics receive outputs as dicts, hooks as DataSamples; both go through this one reader.

    Returns:
        The value, or None when ``sample`` is None or has no ``key``.
    """
    if sample is None:
        return None
    if isinstance(sample, dict):
        return sample.get(key)
    if key in sample:  # a data field of a DataSample (BaseDataElement)
        return getattr(sample, key)
    return sample.metainfo.get(key)
