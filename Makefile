# Drift Lab — every target sets up what it needs first (a fresh machine is fine).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: lab test build check bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# rfc3987-syntax adds ~1.2 s to every nbformat import (jsonschema#1428); rfc3987 replaces it.
	-$(BIN)/python -m pip uninstall --quiet -y rfc3987-syntax
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/driftlab lab

test: $(STAMP)
	$(BIN)/python -m pytest

build: $(STAMP)
	$(BIN)/driftlab build

check: $(STAMP)
	$(BIN)/driftlab build --check

bench: $(STAMP)
	$(BIN)/python bench/notebooks.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
