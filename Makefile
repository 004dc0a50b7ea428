# welfare-eval: two commands do everything on a fresh machine with Python 3.11 and make.
#   make report   set up, generate the synthetic province if missing, run the reports
#   make test     set up, then run the whole test suite (notebooks included)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA := data/synthetic
SEED ?= 20240301
SCALE ?= 1
# The kernel's name as the notebooks' metadata gives it (ipykernel's default), so that opening a
# notebook in Lab changes nothing in it.
KERNEL_NAME := Python 3 (ipykernel)

.PHONY: setup report test test-fast lab synth clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "$(KERNEL_NAME)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

$(DATA)/truth.json: | $(STAMP)
	$(VENV)/bin/welfare-eval synth --seed $(SEED) --scale $(SCALE) --out $(DATA)

synth: $(DATA)/truth.json

# RUN_ARGS passes options through, e.g. make report RUN_ARGS="--force" or RUN_ARGS="--only '10_*'"
RUN_ARGS ?=

report: setup synth
	$(VENV)/bin/welfare-eval run configs/report.yaml $(RUN_ARGS)

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

# JupyterLab at the repository root (notebooks/ one click away, docs/ and reports/ beside it).
# --allow-root only when make runs as root; LAB_ARGS passes options through, e.g. LAB_ARGS="--no-browser".
LAB_ARGS ?=
lab: setup synth
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

clean:
	rm -rf $(VENV) $(DATA) reports/*/
