"""Evaluate a trained mmipose model and save its outputs.

Examples:
    python tools/test.py CONFIG CHECKPOINT --work-dir work_dirs/eval
    python tools/test.py CONFIG CHECKPOINT --out work_dirs/eval/metrics.json
    bash tools/dist_test.sh CONFIG CHECKPOINT 4
"""
from mmipose.apis.runner_cli import parse_test_args, run_test

if __name__ == '__main__':
    run_test(parse_test_args())
