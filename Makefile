# The two commands a new user needs: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test lint typecheck imports unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)  # make serve PORT=9190: another first port
	$(BIN)/thriftbox serve idl/ --mocks mocks/ $(if $(PORT),--port $(PORT))

lint: $(STAMP)
	$(BIN)/ruff check sandbox tests bench
	$(BIN)/ruff format --check sandbox tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)  # the dependency rules of ARCHITECTURE.md ([tool.importlinter] in pyproject.toml)
	$(BIN)/lint-imports --no-cache

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck imports unit

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .thriftbox build *.egg-info
