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

.PHONY: book test unit lint format execute portability lab mutants clean env browser-test bench

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

## The website: _build/html, warnings are errors.
book: $(STAMP)
	$(JB) build . --builder html -W --keep-going

## Every test: lint, unit tests, notebooks re-executed and compared (nbval) on this machine
## and on an emulated old x86 with one thread, strict book build, then the browser tests
## (the site just built, and a chapter run in JupyterLab).
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest tests --ignore=tests/browser
	$(PY) tools/portability.py native old-x86
	$(MAKE) --no-print-directory book
	$(MAKE) --no-print-directory browser-test

unit: $(STAMP)
	$(PY) -m pytest tests --ignore=tests/browser

## The built website (_build/html, or COURSE_SITE) in headless Chromium: every page offline,
## no console error, images, formulas, copy buttons, hidden solutions, search; screenshots
## in artifacts/screenshots/. Installs Debian's chromium first if it is missing (as root).
browser-test: $(STAMP)
	bash tools/ensure_chromium.sh
	$(PY) -m pytest tests/browser

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Re-execute every notebook in place and strip volatile metadata (idempotent).
execute: $(STAMP)
	$(PY) tools/execute_notebooks.py book

## Stored outputs on other machines: nbval and a byte-for-byte re-execution of every
## notebook under emulated CPUs (no AVX-512, old x86) and 1, 2 or 4 threads.
portability: $(STAMP)
	$(PY) tools/portability.py --execute

## Does the suite still bite? The unit tests against deliberate mistakes in the reference.
mutants: $(STAMP)
	$(PY) tools/mutants.py

## JupyterLab on the chapters, with the course's kernel (prints the URL to open).
lab: $(STAMP)
	$(PY) tools/lab.py

## Timings of companion against torch.nn.RNN on this machine (2 threads): prints a table,
## writes benchmarks/results/cpu.json and re-executes the appendix page that plots it.
bench: $(STAMP)
	$(PY) benchmarks/run.py --threads 2 --out benchmarks/results/cpu.json
	$(PY) tools/execute_notebooks.py book/appendix/performance.ipynb

clean:
	rm -rf _build
