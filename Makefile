# Every install step the project needs lives here: a fresh clone plus Python 3.11+
# is enough for `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# A plain `torch` requirement would pull a multi-GB CUDA build; this pinned
# release installs a local CPU build on the project's machines.
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: install install-dev demo test test-slow lint bench clean docs

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e .

install-dev: $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"

# The demo runs with one thread per library (and, by default, one process per
# core): as fast on two idle cores (about 15 s since issue 25), and still so
# when another process takes a core, where OpenMP-threaded gradient boosting
# and torch slow down 2.5x (measured before issue 25: 107 s against 42 s).
demo: $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[report]"
	OMP_NUM_THREADS=1 $(VENV)/bin/skfusion demo --out reports/demo

lint: install-dev
	$(VENV)/bin/ruff check skfusion tests benchmarks scripts examples

# The documentation site, offline, warnings as errors; the gallery runs the
# examples on bundled data.
docs: install-dev
	rm -rf docs/_build docs/generated docs/auto_examples
	OMP_NUM_THREADS=1 $(PY) -m sphinx -W --keep-going -b html docs docs/_build/html
	$(PY) scripts/check_html_in_browser.py docs/_build/html/index.html \
		docs/_build/html/auto_examples/index.html \
		docs/_build/html/auto_examples/plot_bundled_quickstart.html \
		docs/_build/html/user_guide/families.html \
		docs/_build/html/auto_examples/plot_bundled_missing_modalities.html \
		docs/_build/html/generated/skfusion.study.FusionStudy.html
	@echo "Documentation written to docs/_build/html/index.html"

test: install-dev lint
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

# The property-based suite with many more (and fresh random) examples.
test-slow: install-dev
	HYPOTHESIS_PROFILE=slow $(PY) -m pytest tests/test_properties.py $(PYTEST_ARGS)

bench: install-dev
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info reports .pytest_cache .ruff_cache
