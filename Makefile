# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
# re-install when pyproject.toml changes
HASH   := $(shell sha1sum pyproject.toml | cut -c1-10)

.PHONY: run test lint fmt install dev clean bench

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "creditwatch needs Python >= 3.11 (set PYTHON=python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed-$(HASH): $(PY)
	$(PIP) install -e .
	@rm -f $(VENV)/.installed-* && touch $@

$(VENV)/.dev-$(HASH): $(PY)
	$(PIP) install -e '.[dev]'
	@rm -f $(VENV)/.dev-* && touch $@ $(VENV)/.installed-$(HASH)

install: $(VENV)/.installed-$(HASH)
dev: $(VENV)/.dev-$(HASH)

run: install  ## start the embedded stack with the demo feed; Ctrl-C stops it
	$(VENV)/bin/creditwatch up --demo

# the suite's processes (pytest-xdist): most integration tests wait on brokers and
# worker processes rather than a core, so one more than the 2 cores seen here pays;
# TEST_WORKERS=0 runs everything in one process
TEST_WORKERS ?= 3

test: dev  ## the whole suite: unit, doctests, integration against a real broker and Redis
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

bench: install  ## the end-to-end benchmark at full size: var/bench.json and docs/performance.md
	$(VENV)/bin/creditwatch bench --json var/bench.json --docs docs/performance.md

lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

fmt: dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
