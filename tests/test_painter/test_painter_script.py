"""demo/ipose_painter.py: arguments, and what it says when the `make demo` model is missing."""
import importlib.util
import os.path as osp

import pytest

SCRIPT = osp.join(osp.dirname(__file__), '..', '..', 'demo', 'ipose_painter.py')


def _script():
    spec = importlib.util.spec_from_file_location('ipose_painter_script', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_the_demo_model_it_says_to_run_make_demo(tmp_path, capsys):
    assert _script().main(['--demo-dir', str(tmp_path)]) == 2
    assert 'Run `make demo` first' in capsys.readouterr().err


def test_config_and_checkpoint_come_together():
    script = _script()
    args = script.parse_args(['a.py', 'b.pth', '--port', '0', '--size', '128x256'])
    expected = ('a.py', 'b.pth', 0, '128x256', '127.0.0.1')
    assert (args.config, args.checkpoint, args.port, args.size, args.host) == expected
    with pytest.raises(SystemExit):
        script.parse_args(['a.py'])
