"""Pick k support part maps per category by k-medoids clustering of the training shapes (paper Sec. 4.1).

Distance between two 64x64 binary object shapes = 1 - IoU. k-medoids (k-medoids++ seeding, then
alternating assignment / medoid update until stable) keeps the supports real samples; the medoids,
ordered by cluster size (largest first), are copied as::

    <support_root>/<category id>/<NN>_<sample name>_part.png      (SupportBank layout, docs/supports.md)

Deterministic for a given ``--seed``. Categories with many samples are clustered on a seeded random
subset of ``--max-samples`` shapes (the distance matrix is quadratic).

Example::

    python tools/select_supports.py data/Full_Parts data/Full_Parts/support_shape/3 --k 3
"""
from mmipose.datasets.support_selection import main

if __name__ == '__main__':
    main()
