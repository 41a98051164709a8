# Every target sets up what it needs: a fresh machine with Python 3.11 runs
# `make nightly` or `make test` and nothing else.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install nightly build test lint unit integration bench clean

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $@

install: $(INSTALLED)

## The nightly batch on the embedded default warehouse (data/warehouse/movierec.duckdb).
nightly: $(INSTALLED)
	$(BIN)/movierec nightly

## Check the landed files and `dbt build` the warehouse.
build: $(INSTALLED)
	$(BIN)/movierec build

## Linters and type checks: ruff, mypy --strict, sqlfluff (dbt models; the package's SQL files).
lint: $(INSTALLED)
	$(BIN)/ruff check python tests benchmarks
	$(BIN)/ruff format --check python tests benchmarks
	$(BIN)/mypy
	# sqlfluff compiles the project through dbt; point it at a throwaway warehouse.
	tmp=$$(mktemp -d) && MOVIEREC_DUCKDB_PATH=$$tmp/lint.duckdb \
		$(BIN)/sqlfluff lint dbt_project/models dbt_project/tests --disable-progress-bar; \
		status=$$?; rm -rf $$tmp; exit $$status
	# the package's own SQL files: plain DuckDB with $named parameters
	$(BIN)/sqlfluff lint python/movierec --templater placeholder --disable-progress-bar

## Everything CI runs: linters, then every test (unit, dbt via integration), on two
## workers; the tests that share a built world run on one (tests/conftest.py).
test: lint
	$(BIN)/pytest -n 2

unit: $(INSTALLED)
	$(BIN)/pytest tests/unit

integration: $(INSTALLED)
	$(BIN)/pytest tests/integration

## Benchmarks (about 25 minutes; by hand, nothing else running): results in benchmarks/results/.
bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.bench_spine
	$(BIN)/python -m benchmarks.bench_model
	$(BIN)/python -m benchmarks.bench_nightly

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs logs
