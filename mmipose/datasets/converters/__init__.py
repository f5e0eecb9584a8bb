"""Dataset converters (official annotations -> the maps mmipose datasets read)."""
