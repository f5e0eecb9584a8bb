"""Install mmipose. Dependencies and metadata live in setup.cfg."""
from setuptools import setup

setup()
