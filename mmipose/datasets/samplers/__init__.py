from .resumable_infinite_sampler import ResumableInfiniteSampler  # noqa: F401
