"""Install mmipose. Metadata and dependencies live in setup.cfg.

The only thing done here is OpenMMLab's MIM layout: a built package (wheel, or ``pip install .``)
carries ``configs/``, ``tools/`` and ``model-index.yml`` under ``mmipose/.mim/``, which is where
``mim train mmipose CONFIG``, ``mim test mmipose CONFIG`` and ``mim search mmipose`` look for them.
An editable install (``pip install -e .``) does not get them: from a checkout, run ``tools/*.py``.
"""
import os
import os.path as osp
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'model-index.yml')


class BuildPyWithMim(build_py):
    """``build_py`` that also copies ``MIM_FILES`` into ``<build_lib>/mmipose/.mim/``."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        mim_dir = osp.join(self.build_lib, 'mmipose', '.mim')
        if osp.isdir(mim_dir):
            shutil.rmtree(mim_dir)
        os.makedirs(mim_dir)
        ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
        for name in MIM_FILES:
            src = osp.join(ROOT, name)
            if not osp.exists(src):
                # an sdist built without MANIFEST.in's entries would give a wheel mim cannot use
                raise FileNotFoundError(f'{src} is missing: it must ship in mmipose/.mim/ '
                                        '(is it listed in MANIFEST.in?)')
            dst = osp.join(mim_dir, name)
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=ignore)
            else:
                shutil.copyfile(src, dst)


setup(cmdclass={'build_py': BuildPyWithMim})
