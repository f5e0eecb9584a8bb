"""Fixtures shared by the dataset tests."""
import pytest


@pytest.fixture
def mmagic_scope():
    """Build under ``default_scope='mmagic'`` as the configs do (MMagic's Resize / Flip / PackInputs)."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield
