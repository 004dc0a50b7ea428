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

.PHONY: setup report test test-fast lab synth clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (welfare-eval)" >/dev/null
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

lab: setup synth
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

clean:
	rm -rf $(VENV) $(DATA) reports/*/
