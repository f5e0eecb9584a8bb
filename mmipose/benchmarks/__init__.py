"""Speed benchmarks of the iPOSE generator / training step (:mod:`.ipose_speed`)."""
