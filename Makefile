# Two commands do everything on a fresh machine with Python 3.11:
#   make run   - install, generate the default data, build the warehouse
#   make test  - install, then every test (lint, pytest, dbt build on test data,
#                and the DuckDB-vs-Spark build: installs requirements-spark.txt
#                and Java 17 when missing)
# The interpreter of .venv: Python 3.11, the Linux distribution's
# (/usr/bin/python3.11) when it can make a venv, else the first python3.11 on
# the PATH. Debian's and Ubuntu's are built with profile-guided optimization
# and LTO; pyenv's default build is not, and most of a dbt build's Python
# work is dbt's own: real-data builds took 17.7 to 19.7 s on Debian's 3.11.2
# against 22.1 to 24.4 s on pyenv's 3.11.7, same machine and packages
# (BENCHMARKS.md). `make PYTHON=/path/to/python3.11` picks another; an
# existing .venv keeps its interpreter (delete it to change).
DISTRIBUTION_PYTHON := $(shell /usr/bin/python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1 && echo /usr/bin/python3.11)
PYTHON ?= $(or $(DISTRIBUTION_PYTHON),python3.11)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DBT := DBT_PROFILES_DIR=. $(BIN)/dbt
export DUCKDB_PATH ?= warehouse/segmentation.duckdb
RAW_DIR := data/raw
CUSTOMERS ?= 4000
SEED ?= 42

.PHONY: run test install data build lint docs-check pytest docs eda report bench clean

run: install data build
	@echo
	@if [ "$(TARGET)" = spark ]; then \
		echo "Spark tables (Parquet): $${SPARK_WAREHOUSE_DIR:-warehouse/spark}/$${SPARK_SCHEMA:-segmentation}.db/"; \
	else \
		echo "Warehouse (dbt's own file): $(DUCKDB_PATH)"; \
		echo "For BI tools (read-only):   $${BI_DUCKDB_PATH:-published/segments.duckdb} and published/parquet/"; \
		echo "Query it:  $(BIN)/python -c \"import duckdb; print(duckdb.connect('$(DUCKDB_PATH)', read_only=True).sql('select * from segment_profiles'))\""; \
	fi

test: install lint docs-check pytest pytest-spark

install: $(STAMP)

$(STAMP): requirements.txt python_jobs/pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Needs $(PYTHON) on PATH (or run: make PYTHON=/path/to/python3.11)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

data: install
	@if ls $(RAW_DIR)/*.csv.gz >/dev/null 2>&1; then \
		echo "Using the data already in $(RAW_DIR)/ (delete it to regenerate)"; \
	else \
		$(BIN)/python python_jobs/generate_data.py --out $(RAW_DIR) --customers $(CUSTOMERS) --seed $(SEED); \
	fi

build: install
	@mkdir -p $(dir $(DUCKDB_PATH))
	$(DBT) build

lint: install
	$(BIN)/ruff check python_jobs tests models
	$(BIN)/ruff format --check python_jobs tests models
	@# engine-specific SQL only inside duckdb__/spark__ macros (docs/spark.md)
	$(BIN)/python python_jobs/check_portability.py
	@# lint against an empty warehouse, so the SQL is compiled the same way
	@# (full-build branches) whatever the developer has built
	@mkdir -p target/lint && rm -f target/lint/empty.duckdb
	DUCKDB_PATH=target/lint/empty.duckdb $(BIN)/sqlfluff lint models macros analyses tests --processes 2

# Every model, column, seed, source and macro described; every model's key
# tested. The one run of this check (pytest tests only the checker itself).
docs-check: install
	$(DBT) parse --quiet
	$(BIN)/python python_jobs/check_docs_coverage.py --manifest target/manifest.json

# Test files run in parallel, each file whole on one worker (--dist loadfile),
# so a module's own builds happen once; the shared builds of conftest.py are
# built once per run for all workers. The longest files go first, in the
# order of conftest.py's LONGEST_FILES_FIRST (--no-loadscope-reorder keeps
# it), so the workers end together. The 15 slowest steps are listed last;
# TEST_COMMAND_LOG=file appends every command the tests run (each dbt
# invocation) with its test and seconds to file, one JSON line each.
# dbt commands run in a fork server per worker (dbt imported once) and start
# from a session cache of partial parses (tests/python/pipeline.py);
# TEST_DBT_FORKSERVER=0 runs them as plain subprocesses.
# The DuckDB-vs-Spark tests (marker spark) run apart, in pytest-spark
# (Spark section below), which `make test` runs after this.
PYTEST_WORKERS ?= 2
pytest: install
	$(BIN)/python -m pytest tests/python -m "not spark" -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

docs: install
	$(DBT) docs generate

# Exploratory SQL (analyses/) run against the built warehouse, saved as CSV.
# VARS='{...}' passes the build's dbt vars to the compile of the analyses.
eda: install
	$(BIN)/python python_jobs/run_analyses.py $(if $(VARS),--vars '$(VARS)')

# Self-contained HTML report: the analyses' results and the BI publication.
report: install
	$(BIN)/python python_jobs/make_report.py $(if $(VARS),--vars '$(VARS)')

# Benchmark harness; writes BENCHMARKS.md.
bench: install
	$(BIN)/python python_jobs/benchmark.py

clean:
	rm -rf target logs published $(DUCKDB_PATH) $(DUCKDB_PATH).wal

# --- Apache Spark (docs/spark.md) --------------------------------------------
# `make spark-install` installs requirements-spark.txt (dbt-spark, pyspark,
# the spark_local adapter plugin) and Java 17 when missing. `make run
# TARGET=spark` generates the data and builds it on an in-process local Spark
# (Parquet tables under SPARK_WAREHOUSE_DIR, default warehouse/spark/;
# SPARK_REMOTE=sc://host:15002 for a Spark Connect server).
# `make pytest-spark` (part of `make test`; alias test-spark): the
# DuckDB-vs-Spark tests, tests/python/test_spark_build.py, one build of the
# generated files on each engine (docs/spark.md for the times).
TARGET ?= duckdb
SPARK_STAMP := $(VENV)/.installed-spark
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: spark-install pytest-spark test-spark

spark-install: $(SPARK_STAMP)

# Two workers, one test file each: the cross-engine macro cases run on their
# own Spark while test_spark_build's two builds run.
pytest-spark: spark-install
	$(BIN)/python -m pytest tests/python -m spark -n 2 --dist loadfile --durations=15

test-spark: pytest-spark

$(SPARK_STAMP): $(STAMP) requirements-spark.txt $(wildcard adapters/dbt-spark-local/pyproject.toml adapters/dbt-spark-local/dbt/*/spark_local/*)
	@command -v java >/dev/null 2>&1 || { \
		echo "Spark needs Java 17: installing the Debian package openjdk-17-jre-headless"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; }
	@# the pins of requirements.txt hold (pip takes no editable line as a constraint)
	grep -v '^-e' requirements.txt > $(VENV)/constraints.txt
	$(BIN)/pip install --quiet -r requirements-spark.txt -c $(VENV)/constraints.txt
	touch $(SPARK_STAMP)

ifeq ($(TARGET),spark)
export DBT_TARGET := spark
build: spark-install
endif
