"""The toy world end to end: the demo (:mod:`.demo`, its stages :mod:`.stages`) and the iPOSE vs OASIS ablation."""
