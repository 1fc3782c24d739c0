# Two commands for a fresh machine: `make demo` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := data/demo
DEMO_ROWS ?= 200000
WAREHOUSE := data/warehouse.duckdb
# The browser tests and `valuemarts screenshots` drive Debian's Chromium (never one Playwright downloads).
CHROMIUM := /usr/bin/chromium

.PHONY: demo test install browser demo-data build clean

$(BIN)/valuemarts: pyproject.toml
	command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test,spark]'
	touch $@

install: $(BIN)/valuemarts

browser: $(CHROMIUM)

$(CHROMIUM):
	command -v apt-get >/dev/null 2>&1 || { echo "need Debian's chromium at $(CHROMIUM)"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

demo-data: install
	$(BIN)/valuemarts demo-data --out $(DEMO_DIR) --rows $(DEMO_ROWS)

build: install
	$(BIN)/valuemarts build --warehouse $(WAREHOUSE) --config $(DEMO_DIR)/config.toml \
		--ih $(DEMO_DIR)/ih --holdings $(DEMO_DIR)/holdings

demo: demo-data build
	$(BIN)/valuemarts marts --warehouse $(WAREHOUSE)
	$(BIN)/valuemarts serve --warehouse $(WAREHOUSE) --config $(DEMO_DIR)/config.toml

test: install browser
	$(BIN)/python scripts/governance.py
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=25

clean:
	rm -rf data target logs
