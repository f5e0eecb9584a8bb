# mmipose: the two Quick-start commands (`make demo`, `make test`) and a few helpers.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: env demo painter test test-slow lint clean-env

env:
	@bash tools/bootstrap_env.sh

demo: env
	$(PY) tools/demo.py --work-dir work_dirs/demo

painter: env
	$(PY) demo/ipose_painter.py

# The ONNX Runtime / OpenVINO tests run in a process of their own: with those runtimes loaded, a later
# training test in the same process was killed by a segmentation fault (not reproduced in isolation).
test: env
	$(PY) -m pytest tests -m "not slow" -q --ignore=tests/test_deploy $(PYTEST_ARGS)
	$(PY) -m pytest tests/test_deploy -m "not slow" -q $(PYTEST_ARGS)

test-slow: env
	$(PY) -m pytest tests -m slow -q $(PYTEST_ARGS)

# the linters setup.cfg configures, as .pre-commit-config.yaml runs them
LINT_PATHS := mmipose tools tests configs demo setup.py
lint: env
	$(PY) -m flake8 $(LINT_PATHS)
	$(PY) -m isort --check-only --diff $(LINT_PATHS)
	$(PY) -m yapf --diff -r $(LINT_PATHS)

clean-env:
	rm -rf $(VENV)
