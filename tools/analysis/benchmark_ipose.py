"""Benchmark an IPOSE config: train-step time and peak memory, inference latency, part inference.

Thin command line; documentation and code: :mod:`mmipose.benchmarks.ipose_speed` (``--help`` lists the options).
"""
from mmipose.benchmarks.ipose_speed import main

if __name__ == '__main__':
    main()
