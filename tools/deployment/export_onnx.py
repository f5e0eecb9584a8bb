"""Export the sampling path of a trained iPOSE model as ONNX graphs (support encoder, PartNet, generator).

Thin command line; documentation and code: :mod:`mmipose.deploy.export_cli` (``--help`` lists the options).
"""
from mmipose.deploy.export_cli import main

if __name__ == '__main__':
    main()
