# Two commands matter: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NATIVE_STAMP := $(VENV)/.native
# rustup puts cargo in ~/.cargo/bin, which a non-login shell may not have on PATH.
CARGO_BIN := $(or $(dir $(shell command -v cargo 2>/dev/null)),$(wildcard $(HOME)/.cargo/bin/))
export ERROR_ASSETS_HOME ?= $(CURDIR)/.error_assets
export DAGSTER_HOME ?= $(ERROR_ASSETS_HOME)/dagster_home
PORT ?= 3000

.PHONY: setup demo test test-fast dev opensearch lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The compiled fingerprint engine (native/, Rust): optional, same results, faster.
$(NATIVE_STAMP): $(STAMP) native/Cargo.toml native/Cargo.lock native/pyproject.toml $(wildcard native/src/*.rs)
	@if [ -z "$(CARGO_BIN)" ]; then \
		echo "cargo not found: skipping native/ (the Python path gives the same fingerprints, slower)"; \
		touch $(NATIVE_STAMP); \
	else \
		echo "building the compiled fingerprint engine (native/, cargo)"; \
		if PATH="$(CARGO_BIN):$$PATH" PCRE2_SYS_STATIC=1 $(BIN)/pip install --quiet ./native; then \
			touch $(NATIVE_STAMP); \
		else \
			echo "WARNING: native/ did not build; the Python path is used (same fingerprints, slower); make setup tries again" >&2; \
		fi; \
	fi

setup: $(STAMP) $(NATIVE_STAMP)

demo: setup
	$(BIN)/error-assets demo

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not e2e and not ui and not opensearch"

dev: setup
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

opensearch: $(STAMP)
	bash scripts/opensearch_node.sh

lint: $(STAMP)
	$(BIN)/ruff format --check error_assets tests bench
	$(BIN)/ruff check error_assets tests bench
	@if [ -n "$(CARGO_BIN)" ]; then \
		cd native && PATH="$(CARGO_BIN):$$PATH" cargo fmt --check && \
		PATH="$(CARGO_BIN):$$PATH" cargo clippy --release --quiet -- -D warnings; \
	fi

format: $(STAMP)
	$(BIN)/ruff format error_assets tests bench
	$(BIN)/ruff check --fix error_assets tests bench
	@if [ -n "$(CARGO_BIN)" ]; then cd native && PATH="$(CARGO_BIN):$$PATH" cargo fmt; fi

bench: setup
	$(BIN)/pip install --quiet -e ".[bench]"
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(ERROR_ASSETS_HOME)
