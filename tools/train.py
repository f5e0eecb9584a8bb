"""Train an mmipose model (iPOSE or PartNet) from an MMEngine config.

Examples:
    python tools/train.py configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume --amp
    python tools/train.py CONFIG --amp --channels-last --batch-d-passes   # the speed levers
    bash tools/dist_train.sh CONFIG 4
"""
from mmipose.apis.runner_cli import parse_train_args, run_train

if __name__ == '__main__':
    run_train(parse_train_args())
