#!/usr/bin/env bash
# CUDA check of a shipped config: smoke-trains it on tiny generated data on the GPU, without and with
# AMP, and prints EMA movement (generator_ema from its initial weights and from G), peak GPU memory
# and step time (tools/analysis/smoke_run_stats.py, which also runs on a CPU with --device cpu).
# Then the deployment path on the GPU: the exported graphs on ONNX Runtime's CUDA provider against
# eager fp32 (python -m mmipose.deploy.device_check; needs onnxruntime-gpu instead of onnxruntime).
#
#   bash tools/analysis/check_gpu_run.sh [CONFIG] [WORK_DIR] [ITERS] [-- extra key=value overrides]
#
# PYTHON selects the interpreter (default: python). Refuses (exit 2) without a CUDA device.
set -euo pipefail
CONFIG=${1:-configs/ipose/ipose_2xb2-372kiters_cityscapes-256x512.py}
WORK_DIR=${2:-work_dirs/check_gpu_run}
ITERS=${3:-5}
shift $(( $# < 3 ? $# : 3 ))
[[ "${1:-}" == "--" ]] && shift
PYTHON=${PYTHON:-python}
cd "$(dirname "$0")/../.."

if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    echo "check_gpu_run.sh: no CUDA device (torch.cuda.is_available() is False); this check needs a GPU." >&2
    echo "On a CPU: $PYTHON tools/analysis/smoke_run_stats.py $CONFIG --work-dir $WORK_DIR --device cpu" >&2
    exit 2
fi
"$PYTHON" -c 'import torch; print("device:", torch.cuda.get_device_name(0), "| torch", torch.__version__)'
for mode in fp32 amp; do
    amp_flag=()
    [[ $mode == amp ]] && amp_flag=(--amp)
    echo "== $mode"
    "$PYTHON" tools/analysis/smoke_run_stats.py "$CONFIG" --work-dir "$WORK_DIR/$mode" --device cuda \
        --iters "$ITERS" "${amp_flag[@]}" ${@:+--cfg-options "$@"}
done
echo "== ONNX Runtime CUDA provider vs eager fp32"
if "$PYTHON" -c 'import sys, onnxruntime as o; sys.exit(0 if "CUDAExecutionProvider" in o.get_available_providers() else 1)'; then
    "$PYTHON" -m mmipose.deploy.device_check "$CONFIG" --device cuda
else
    echo "skipped: this onnxruntime has no CUDAExecutionProvider; install onnxruntime-gpu (same version as" \
         "requirements/deploy.txt) in place of onnxruntime to check the deployment path on the GPU" >&2
fi
