# Every install step the project needs lives here: a fresh clone plus Python 3.11+
# is enough for `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# A plain `torch` requirement would pull a multi-GB CUDA build; this pinned
# release installs a local CPU build on the project's machines.
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: install install-dev demo test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e .

install-dev: $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"

demo: install
	$(VENV)/bin/skfusion demo --output reports/demo.csv

lint: install-dev
	$(VENV)/bin/ruff check skfusion tests benchmarks scripts examples

test: install-dev lint
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

bench: install-dev
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info reports .pytest_cache .ruff_cache
