"""ADE20K (SceneParsing 150 classes + the Places 2017 instance annotations) for iPOSE."""
from mmipose.registry import DATASETS

from .semantic_base import IPOSESemanticDataset


def ade20k_metainfo() -> dict:
    """Names and colours of the 151 labels: 0 = 'other' (black), then MMSeg's 150 classes.

    Returns:
        dict: ``classes`` (151 names) and ``palette`` (151 RGB rows).
    """
    from mmseg.datasets import ADE20KDataset
    meta = ADE20KDataset.METAINFO
    return dict(classes=('other', ) + tuple(meta['classes']), palette=[[0, 0, 0]] + [list(c) for c in meta['palette']])


@DATASETS.register_module()
class IPOSEADE20KDataset(IPOSESemanticDataset):
    """``ADEChallengeData2016/images/<split>/*.jpg`` + ``annotations`` + ``annotations_instance``.

    Labels 0..150 (0 = other, the don't-care class; 151 semantic channels). The instance PNG holds
    the instance class in R and the instance id in G (split by ``SplitADE20KInstance``).

    Args:
        data_root (str): The ``ADEChallengeData2016`` folder.
        split (str): 'training' or 'validation'.
        **kwargs: ``pipeline``, ``test_mode``, ``metainfo``... of ``BaseDataset``.
    """

    def __init__(self, data_root: str, split: str = 'training', **kwargs):
        kwargs.setdefault('metainfo', ade20k_metainfo())
        super().__init__(
            data_root=data_root,
            data_prefix=dict(img=f'images/{split}', label=f'annotations/{split}', inst=f'annotations_instance/{split}'),
            img_suffix='.jpg',
            label_suffix='.png',
            inst_suffix='.png',
            **kwargs)
