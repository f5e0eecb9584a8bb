"""The mmcv-lite guard: MMagic/MMSeg import without compiled ops, and the guard stays out of the way of real ops."""
import subprocess
import sys
import textwrap
import types

import pytest
import torch

from mmipose.utils import mmcv_guard


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True, text=True, timeout=300)


def test_guard_installed_on_mmcv_lite():
    # The project's environment ships mmcv-lite, which has no compiled extension.
    assert not mmcv_guard.has_compiled_mmcv_ops()
    assert mmcv_guard.is_mmcv_ops_guard_installed()


def test_mmagic_and_mmseg_models_import_with_mmcv_lite():
    result = _run("""
        import mmipose, mmagic.models, mmseg.models
        from mmagic.registry import MODELS
        print('ok', len(MODELS.module_dict))
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[0] == 'ok'
    assert int(result.stdout.split()[1]) > 100  # MMagic's own models registered


def test_calling_a_compiled_op_names_it_and_the_fix():
    import mmcv.ops
    feats = torch.rand(1, 1, 4, 4)
    rois = torch.tensor([[0., 0., 0., 3., 3.]])
    with pytest.raises(mmcv_guard.MissingMMCVOpError) as err:
        mmcv.ops.roi_align(feats, rois, (2, 2))
    message = str(err.value)
    assert 'roi_align_forward' in message
    assert 'mim install' in message


def test_guard_attributes_are_only_ops():
    guard = mmcv_guard._MMCVOpsGuard('fake')
    with pytest.raises(AttributeError):
        guard.__wrapped__
    assert callable(guard.some_op)


def test_guard_does_nothing_when_real_ops_exist():
    # Simulate full mmcv: a real `mmcv._ext` module is already importable/imported.
    result = _run("""
        import sys, types
        class RealExt(types.ModuleType):  # stands for a compiled extension with every op
            def __getattr__(self, name):
                if name.startswith('__'):
                    raise AttributeError(name)
                return lambda *a, **k: 'real ' + name
        real_ext = RealExt('mmcv._ext')
        sys.modules['mmcv._ext'] = real_ext
        import mmipose
        from mmipose.utils import is_mmcv_ops_guard_installed, install_mmcv_ops_guard
        assert sys.modules['mmcv._ext'] is real_ext
        assert not is_mmcv_ops_guard_installed()
        assert install_mmcv_ops_guard() is False
        print(sys.modules['mmcv._ext'].nms())
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith('real nms')


def test_guard_respects_an_importable_extension(monkeypatch):
    # Full mmcv installed but not imported yet: find_spec finds the compiled module.
    monkeypatch.delitem(sys.modules, 'mmcv._ext', raising=False)
    monkeypatch.setattr(mmcv_guard.importlib.util, 'find_spec', lambda name: types.SimpleNamespace(name=name))
    assert mmcv_guard.has_compiled_mmcv_ops()
    assert mmcv_guard.install_mmcv_ops_guard() is False
    assert 'mmcv._ext' not in sys.modules
