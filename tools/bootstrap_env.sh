#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment with the pinned OpenMMLab stack.
#
# The environment is rebuilt only when requirements/*.txt, setup.cfg or the Python
# version change: a hash of them is stored in $VENV/.mmipose-env-hash.
# Usage: tools/bootstrap_env.sh            (VENV=.venv, PYTHON=python3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

want_hash=$({ cat requirements/*.txt setup.cfg; "$PYTHON" --version; uname -m; } \
    | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.mmipose-env-hash" 2>/dev/null)" = "$want_hash" ]; then
    exit 0
fi

echo "[mmipose] creating the environment in $VENV (first run: about 5-10 minutes) ..."
start=$(date +%s)
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade "pip<26" >/dev/null 2>&1 || true
"$VENV/bin/python" -m pip install --quiet --progress-bar off \
    -r requirements/runtime.txt -r requirements/deploy.txt -r requirements/painter.txt \
    -r requirements/tests.txt 2>&1 \
    | { grep -v -e "is ignored: it is neither a file nor a directory" -e "^$" || true; }
"$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
"$VENV/bin/python" -c "import mmipose, mmagic.models, mmseg.models; print('[mmipose] environment ready:', mmipose.__version__)"
echo "$want_hash" > "$VENV/.mmipose-env-hash"
echo "[mmipose] environment created in $(( $(date +%s) - start )) s"
