"""LoadImageChecked: corrupt and missing image files give errors that name them."""
import numpy as np
import pytest
from PIL import Image

from mmipose.datasets.transforms import ImageDecodeError, LoadImageChecked


def test_loads_like_mmagic_and_names_bad_files(tmp_path):
    good = tmp_path / 'good.png'
    Image.fromarray(np.full((4, 6, 3), 7, np.uint8)).save(good)
    out = LoadImageChecked(key='img')(dict(img_path=str(good)))
    assert out['img'].shape == (4, 6, 3) and int(out['img'].max()) == 7

    corrupt = tmp_path / 'corrupt.png'
    corrupt.write_bytes(good.read_bytes()[:20] + b'\x00garbage')
    with pytest.raises(ImageDecodeError, match='corrupt.png'):
        LoadImageChecked(key='img')(dict(img_path=str(corrupt)))
    with pytest.raises(FileNotFoundError, match='label file not found: .*missing.png'):
        LoadImageChecked(key='label', color_type='unchanged')(dict(label_path=str(tmp_path / 'missing.png')))
