# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1:8000

.PHONY: demo test bench bench-smoke bench-analysis bench-backtest install migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

## Set up the embedded default (SQLite, in-process tasks), load the sample data, serve on $(HOST).
demo: migrate
	$(BIN)/python manage.py demo_setup --url http://$(HOST)/
	$(BIN)/python manage.py runserver $(HOST)

## Set up and run the whole test suite (services come from DATABASE_URL / CELERY_BROKER_URL).
test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/run_all.py

## Every benchmark with tiny sizes: checks the harness runs (the figures mean nothing).
bench-smoke: install
	$(BIN)/python bench/run_all.py --smoke

bench-analysis: install
	$(BIN)/python bench/bench_analysis.py

bench-backtest: install
	$(BIN)/python bench/bench_backtest.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
