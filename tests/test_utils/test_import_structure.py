"""PartNet's package and the official-checkpoint converter do not import each other."""
import ast
import os.path as osp
import subprocess
import sys
from glob import glob

import pytest

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def _imported_modules(path: str) -> set:
    """Every module a file imports, at top level or inside functions (absolute names)."""
    package = osp.relpath(osp.dirname(path), ROOT).replace(osp.sep, '.')
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                base = '.'.join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f'{base}.{a.name}' for a in node.names)
    return names


def test_partnet_package_does_not_import_the_converter():
    for path in glob(osp.join(ROOT, 'mmipose', 'models', 'partnet', '*.py')):
        imported = _imported_modules(path)
        assert 'mmipose.utils.official_checkpoint' not in imported, path
    shared = _imported_modules(osp.join(ROOT, 'mmipose', 'utils', 'state_dict_io.py'))
    assert not any(name.startswith('mmipose.models') for name in shared)


@pytest.mark.slow  # each interpreter imports MMagic: ~10-25 s per module on 2 cores
@pytest.mark.parametrize('module', [
    'mmipose.utils.official_checkpoint', 'mmipose.models.partnet', 'mmipose.models.partnet.weights',
    'mmipose.utils.state_dict_io'
])
def test_module_imports_alone_in_a_fresh_interpreter(module):
    result = subprocess.run([sys.executable, '-c', f'import {module}'],
                            cwd=ROOT,
                            capture_output=True,
                            text=True,
                            env={
                                'PYTHONPATH': ROOT,
                                'PATH': '/usr/bin:/bin'
                            })
    assert result.returncode == 0, result.stderr[-2000:]
