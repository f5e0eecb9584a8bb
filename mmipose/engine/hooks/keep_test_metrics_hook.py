"""``KeepTestMetricsHook``: the test metrics of a run, for the caller of ``runner.test()``."""
from typing import Dict, Optional

from mmengine.hooks import Hook


class KeepTestMetricsHook(Hook):
    """Keeps the metrics of the last test epoch in ``self.metrics``.

    MMagic's ``MultiTestLoop.run`` returns None; its metrics only reach ``after_test_epoch``.
    Registered on a runner by :func:`mmipose.apis.runner_cli.run_test` (not through a config).
    """
    priority = 'LOWEST'

    def __init__(self) -> None:
        self.metrics: Optional[Dict[str, float]] = None

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        self.metrics = metrics
