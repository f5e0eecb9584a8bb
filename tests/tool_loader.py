"""Import a script under ``tools/`` as a module (``tools/`` is not a package).

``tests/`` is on ``sys.path`` because its ``conftest.py`` lives there (pytest's default
``prepend`` import mode), so every test can ``from tool_loader import load_tool``.
"""
import importlib.util
import os.path as osp
from types import ModuleType

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(relative_path: str) -> ModuleType:
    """Execute ``tools/<relative_path>`` (e.g. ``'train.py'``, ``'dataset_converters/coco_instances.py'``)
    and return it as a fresh module named ``mmipose_tool_<file stem>``."""
    path = osp.join(REPO, 'tools', relative_path)
    name = 'mmipose_tool_' + osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
