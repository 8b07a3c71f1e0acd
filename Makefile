# Attain: `make run` installs and starts the app with demo data; `make test` installs and runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DB ?= sqlite:///attain.db
PORT ?= 8000
# The suite runs on every core (pytest-xdist); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto

.PHONY: install run test bench clean browser-deps browser-test

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
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# Browser tests drive Debian's Chromium (never a downloaded browser); without it they skip with a reason.
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
browser-deps:
	@if [ -x /usr/bin/chromium ] && [ -e $(CJK_FONT) ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; \
	else echo "chromium/fonts-noto-cjk missing and not root: browser tests will be skipped"; exit 0; fi; \
	$$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk \
	  || echo "could not install chromium: browser tests will be skipped"

browser-test: install browser-deps
	$(BIN)/python -m pytest tests/browser

bench: install
	$(BIN)/python benchmarks/imports.py
	$(BIN)/python benchmarks/split.py
	$(BIN)/python benchmarks/rollup.py --lines 1000000

clean:
	rm -rf $(VENV) attain.db attain.db-wal attain.db-shm .pytest_cache
