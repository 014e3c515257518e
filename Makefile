# The two commands of the README: `make run` (the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/brainmap demo

# allensdk pins numpy < 1.24: it gets its own venv, then drives our server in the suite.
ALLENSDK_VENV := .venv-allensdk
$(ALLENSDK_VENV)/.installed:
	$(PYTHON) -m venv $(ALLENSDK_VENV)
	$(ALLENSDK_VENV)/bin/python -m pip install --quiet "allensdk==2.16.2"
	touch $@

LINTED := src tests $(wildcard benchmarks)

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

# The suite includes allensdk itself driving our server, from its own venv.
test: lint $(ALLENSDK_VENV)/.installed
	BRAINMAP_ALLENSDK_PYTHON=$(ALLENSDK_VENV)/bin/python $(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) $(ALLENSDK_VENV) demo-output demo-store .pytest_cache .mypy_cache .ruff_cache
