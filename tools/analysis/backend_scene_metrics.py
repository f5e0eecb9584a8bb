"""Scene mIoU / AC of a trained iPOSE model under every inference backend, against eager fp32.

Thin command line; documentation and code: :mod:`mmipose.deploy.scene_quality_cli` (``--help`` lists the options).
"""
from mmipose.deploy.scene_quality_cli import main

if __name__ == '__main__':
    main()
