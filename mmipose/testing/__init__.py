"""Helpers to run shipped configs on tiny generated data (tests, smoke runs); not imported by ``import mmipose``."""
