# Two commands for a fresh machine: `make demo` and `make test` (see README).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := data/demo
DEMO_ROWS ?= 200000
WAREHOUSE := data/warehouse.duckdb

.PHONY: demo test install demo-data build clean

$(BIN)/valuemarts: pyproject.toml
	command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test,spark]'
	touch $@

install: $(BIN)/valuemarts

demo-data: install
	$(BIN)/valuemarts demo-data --out $(DEMO_DIR) --rows $(DEMO_ROWS)

build: install
	$(BIN)/valuemarts build --warehouse $(WAREHOUSE) --config $(DEMO_DIR)/config.toml \
		--ih $(DEMO_DIR)/ih --holdings $(DEMO_DIR)/holdings

demo: demo-data build
	$(BIN)/valuemarts marts --warehouse $(WAREHOUSE)
	@echo "The viewer is not built yet; query the marts with: $(BIN)/valuemarts sql \"select * from marts.mart_file_loads\""

test: install
	$(BIN)/python scripts/governance.py
	$(BIN)/pytest -q -p no:cacheprovider

clean:
	rm -rf data target logs
