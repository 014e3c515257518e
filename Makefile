# The two commands of the README: `make run` (the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean postgresql

# Installing also builds the web viewer (hatch_build.py): a change to its sources reinstalls.
WEB_SOURCES := hatch_build.py web/package.json web/package-lock.json web/build.mjs $(wildcard web/src/*)

$(STAMP): pyproject.toml $(WEB_SOURCES)
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
	$(BIN)/lint-imports

# The browser tests drive Debian's chromium: installed here when we are root with apt-get,
# else they skip.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends chromium \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
		|| echo "chromium could not be installed: the browser tests will skip"; \
	else echo "no chromium and no root apt-get to install it: the browser tests will skip"; fi

# The store tests run on SQLite and on a throw-away cluster of Debian's PostgreSQL
# (tests/postgres.py): installed here when we are root with apt-get, else they skip. Once it is
# installed, a cluster that cannot start fails those tests rather than skipping them.
POSTGRES_INSTALLED = ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
postgresql:
	@if $(POSTGRES_INSTALLED); then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq --no-install-recommends postgresql \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; } \
		|| echo "postgresql could not be installed: the PostgreSQL tests will skip"; \
	else echo "no PostgreSQL and no root apt-get to install it: the PostgreSQL tests will skip"; fi

# The suite includes allensdk itself driving our server, from its own venv.
test: lint $(ALLENSDK_VENV)/.installed | $(CHROMIUM) postgresql
	BRAINMAP_ALLENSDK_PYTHON=$(ALLENSDK_VENV)/bin/python \
	BRAINMAP_REQUIRE_POSTGRES=$$($(POSTGRES_INSTALLED) && echo 1) \
		$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) $(ALLENSDK_VENV) demo-output demo-store .pytest_cache .mypy_cache .ruff_cache \
		web/node_modules src/brainmap/web/static
