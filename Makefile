# Plain task runner for the README commands. Every target sets up .venv first if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.digestkit-installed
WORKSPACE ?= reports/workspace

.PHONY: setup system-deps run test bench bench-diff bench-pipeline bench-replay lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

setup: $(STAMP)

run: setup  ## publication events of the sample world -> HTML digests in the workspace
	$(BIN)/digestkit run --workspace $(WORKSPACE)
	$(BIN)/digestkit evaluate --workspace $(WORKSPACE) --simulate --report

system-deps:  ## Debian packages the tests need (chromium, postgresql): installs them or says how
	.ci/system-deps

test: setup system-deps  ## type check (mypy strict), lint, then the whole test suite (what CI runs)
	$(BIN)/mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

bench: bench-diff bench-pipeline  ## every benchmark; each prints its table with ratios

bench-diff: setup
	$(BIN)/python benchmarks/bench_diff.py --results benchmarks/RESULTS.md

bench-pipeline: setup  ## generates 10k/100k/1M-account worlds into /tmp once (1M: ~1 min, 4.5 GB)
	$(BIN)/python benchmarks/bench_pipeline.py --results benchmarks/RESULTS.md

bench-replay: setup
	$(BIN)/python benchmarks/bench_replay.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) reports/workspace reports/artifacts build dist *.egg-info
