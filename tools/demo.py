"""`make demo`: the whole iPOSE pipeline on toy street scenes, on a CPU, in minutes.

Thin command line; documentation and code: :mod:`mmipose.toy.demo` (``--help`` lists the options).
"""
from mmipose.toy.demo import main

if __name__ == '__main__':
    main()
