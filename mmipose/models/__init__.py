from . import discriminators, editors, generators, losses, partnet  # noqa: F401
