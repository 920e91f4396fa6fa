# Drift Lab — every target sets up what it needs first (a fresh machine is fine).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export MPLBACKEND := Agg

.PHONY: lab test build check bench bench-grade bench-cost bench-widgets setup browser sandbox axe clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# rfc3987-syntax adds ~1.2 s to every nbformat import (jsonschema#1428); rfc3987 replaces it.
	-$(BIN)/python -m pip uninstall --quiet -y rfc3987-syntax
	@touch $(STAMP)

# Debian's Chromium for the real-browser tests (never `playwright install`: it downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	    else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# Debian's bubblewrap: every process that runs learner code at grading time runs in it (grader/sandbox).
sandbox:
	@command -v bwrap >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; \
	    else sudo apt-get update -qq && sudo apt-get install -y -qq bubblewrap >/dev/null; fi; }

# axe-core (npm) for the accessibility browser test: WCAG 2.1 A/AA rules run on every notebook's outputs.
AXE := .cache/axe/node_modules/axe-core/axe.min.js
axe:
	@test -f $(AXE) || { command -v npm >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq npm >/dev/null; \
	    else sudo apt-get update -qq && sudo apt-get install -y -qq npm >/dev/null; fi; }; \
	  npm install --prefix .cache/axe --no-save --no-audit --no-fund --loglevel=error axe-core@4 >/dev/null; }

lab: $(STAMP)
	$(BIN)/driftlab lab

test: $(STAMP) browser sandbox axe
	$(BIN)/python -m pytest

build: $(STAMP)
	$(BIN)/driftlab build

check: $(STAMP)
	$(BIN)/driftlab build --check

bench: $(STAMP)
	$(BIN)/python bench/notebooks.py

bench-grade: $(STAMP) sandbox
	$(BIN)/python bench/grade.py

bench-cost: $(STAMP) sandbox
	$(BIN)/python bench/cost.py

bench-widgets: $(STAMP)
	$(BIN)/python bench/widgets.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info test-output
