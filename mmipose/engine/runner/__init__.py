from .resumable_loop import DATA_POSITION_KEY, ResumableIterBasedTrainLoop  # noqa: F401
