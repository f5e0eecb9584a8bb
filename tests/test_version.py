import re

import mmipose


def test_version_is_semver_and_parsed():
    assert re.fullmatch(r'\d+\.\d+\.\d+', mmipose.__version__)
    assert mmipose.version_info == tuple(int(p) for p in mmipose.__version__.split('.'))
