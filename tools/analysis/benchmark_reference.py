"""Time the authors' iPOSE code (github.com/csyxwei/iPOSE) on the scenes of benchmark_ipose.py.

Thin command line; documentation and code: :mod:`mmipose.benchmarks.reference_speed` (``--help`` lists the options).
"""
from mmipose.benchmarks.reference_speed import main

if __name__ == '__main__':
    main()
