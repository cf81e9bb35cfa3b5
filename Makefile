# The course's two commands:  make book  (the website)   make test  (every test).
# Each creates .venv and installs the pinned environment on first use.

PYTHON  ?= python3.11
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
JB      := $(VENV)/bin/jupyter-book
# Fixed thread count and hash seed keep timings comparable and outputs stable.
export OMP_NUM_THREADS ?= 2
export MKL_NUM_THREADS ?= 2
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test unit nbval lint format execute clean env

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

## The website: _build/html, warnings are errors.
book: $(STAMP)
	$(JB) build . --builder html -W --keep-going

## Every test: lint, unit tests, notebooks re-executed and compared, strict book build.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest tests
	$(PY) -m pytest --nbval --nbval-sanitize-with tools/nbval_sanitize.cfg -p no:randomly book
	$(MAKE) --no-print-directory book

unit: $(STAMP)
	$(PY) -m pytest tests

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Re-execute every notebook in place and strip volatile metadata (idempotent).
execute: $(STAMP)
	$(PY) tools/execute_notebooks.py book

clean:
	rm -rf _build
