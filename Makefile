# Attain: `make run` installs and starts the app with demo data; `make test` installs and runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= sqlite:///attain.db
PORT ?= 8000

.PHONY: install run test bench clean

$(BIN)/attain: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/attain

install: $(BIN)/attain

run: install
	$(BIN)/attain init --db $(DB)
	$(BIN)/attain demo --db $(DB)
	$(BIN)/attain serve --db $(DB) --port $(PORT)

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/imports.py
	$(BIN)/python benchmarks/split.py

clean:
	rm -rf $(VENV) attain.db attain.db-wal attain.db-shm .pytest_cache
