"""Pick k support part maps per category by k-medoids clustering of the training shapes (paper Sec. 4.1).

Thin command line; documentation and code: :mod:`mmipose.datasets.support_selection` (``--help`` lists the options).
"""
from mmipose.datasets.support_selection import main

if __name__ == '__main__':
    main()
