# welfare-eval: two commands do everything on a fresh machine with Python 3.11 and make.
#   make report   set up, generate the synthetic province if missing, run the reports
#   make test     set up, lint, then run the whole test suite (notebooks included) on both cores
PYTHON ?= python3
# The repository's own modules (welfare_eval, and the test modules pytest rewrites) are compiled once
# and kept in __pycache__ (ignored by git) even where PYTHONDONTWRITEBYTECODE is set, as on CI
# machines: a test run starts hundreds of Python processes (kernels, workers, the command line), and
# each would otherwise compile them again.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA := data/synthetic
SEED ?= 20240301
SCALE ?= 1
# The kernel's name as the notebooks' metadata gives it (ipykernel's default), so that opening a
# notebook in Lab changes nothing in it.
KERNEL_NAME := Python 3 (ipykernel)

# uv (from PyPI, pinned) installs the lock files; it lives in its own small venv inside .venv.
UV_VERSION := 0.13.9
UV := $(VENV)/.uv/bin/uv
# What `make setup` installs: the package and the extras `make test` needs (the JupyterLab browser
# test needs [lab]). requirements.lock pins every package with hashes (Linux x86_64, CPython 3.11);
# `make lock` regenerates it.
LOCK := requirements.lock
LOCK_EXTRAS := --extra test --extra dask --extra lab
LOCK_TARGET := --python-platform x86_64-unknown-linux-gnu --python-version 3.11.7
# pytest workers: tests that share an expensive run carry an xdist_group and stay on one worker
JOBS ?= 2
# the four markers `make test-fast` leaves out (see tests/README.md)
FAST := not (slow or notebooks or runner or browser)

.PHONY: setup report test test-fast lint lock lab synth clean

$(UV):
	$(PYTHON) -m venv $(VENV)/.uv
	$(VENV)/.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(PY): | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)

# sync: exactly the lock's packages (anything else is removed), compiled to bytecode at install (uv
# does not by default, and where PYTHONDONTWRITEBYTECODE is set, as on CI machines, every process
# would compile pandas, scipy and matplotlib again: 4.6 s of CPU for the imports of a kernel
# instead of 1.6 s), then the package itself, editable
$(STAMP): $(LOCK) pyproject.toml | $(PY)
	$(UV) pip sync --quiet --python $(PY) --require-hashes --compile-bytecode $(LOCK)
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "$(KERNEL_NAME)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

# after changing dependencies in pyproject.toml; keeps the pinned versions unless
# LOCK_ARGS=--upgrade (or --upgrade-package NAME) asks for newer ones
LOCK_ARGS ?=
# Left out of the lock: rfc3987-syntax (and lark, which only it needs), which jsonschema's
# "format-nongpl" extra brings in through jupyter-events. It compiles a Lark grammar when it is
# imported, 1.8 s of CPU in every process that imports nbformat (papermill, nbconvert, nbval, each
# pytest worker), for an IRI format check that no notebook schema uses; without it jsonschema skips
# that check, as it does whenever the optional package is absent.
LOCK_LEAVE_OUT := --no-emit-package rfc3987-syntax --no-emit-package lark
lock: | $(UV)
	$(UV) pip compile pyproject.toml $(LOCK_EXTRAS) --generate-hashes $(LOCK_TARGET) $(LOCK_LEAVE_OUT) \
		--custom-compile-command "make lock" $(LOCK_ARGS) --quiet -o $(LOCK)

$(DATA)/truth.json: | $(STAMP)
	$(VENV)/bin/welfare-eval synth --seed $(SEED) --scale $(SCALE) --out $(DATA)

synth: $(DATA)/truth.json

# RUN_ARGS passes options through, e.g. make report RUN_ARGS="--force" or RUN_ARGS="--only '10_*'"
RUN_ARGS ?=

report: setup synth
	$(VENV)/bin/welfare-eval run configs/report.yaml $(RUN_ARGS)

# ruff (lint and import order) and mypy (the package), configured in pyproject.toml
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# everything: unit tests, the statistical checks marked slow, the report runs, the browser tests
# and the notebooks (nbval)
# (the suite runs even when lint fails, and make test then fails at the end)
# One pytest on both cores: the notebooks are one xdist group, so they run on one worker in file
# order (nbval's cells of a notebook share one kernel, and the briefing reads what the other
# notebooks stored) while the other worker runs the tests (conftest.py's scheduler, tests/README.md).
test: setup
	@status=0; $(MAKE) --no-print-directory lint || status=$$?; \
	$(PY) -m pytest -n $(JOBS) tests notebooks || status=$$?; exit $$status

# everything but the four expensive markers, in under a minute
test-fast: setup
	$(PY) -m pytest -n $(JOBS) -m "$(FAST)"

# JupyterLab at the repository root (notebooks/ one click away, docs/ and reports/ beside it).
# --allow-root only when make runs as root; LAB_ARGS passes options through, e.g. LAB_ARGS="--no-browser".
LAB_ARGS ?=
lab: setup synth
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

clean:
	rm -rf $(VENV) $(DATA) reports/*/
