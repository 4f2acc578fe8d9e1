# Two commands for a newcomer: `make run` and `make test`. Each sets up what is missing
# and skips what is already done (venvs keep the hash of pyproject.toml, the index keeps
# content hashes of every guide).
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup model index train run test lint bench-retrieval bench-nlu validate clean

setup:
	@bash scripts/setup.sh

model: setup
	@$(PY) -m indexer.e5_convert
	@$(PY) -m indexer.onnx_export

index: model
	@$(PY) -m indexer build

train: index
	@$(PY) -m core.rasa_model

validate: setup
	@$(PY) -m indexer validate

run: train
	@$(PY) -m services seed
	@$(PY) -m core.run

test: train
	@bash scripts/setup_browser.sh
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/mypy core indexer services channels bot

bench-retrieval: index
	@$(PY) -m bench.retrieval

bench-nlu: train
	@$(PY) -m bench.nlu

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

.PHONY: bench-dialogue bench-channels bench-residents

# BENCH_ARGS: e.g. BENCH_ARGS=--train (time a forced training) or BENCH_ARGS="--seconds 120".
bench-dialogue: train
	@$(PY) -m bench.dialogue $(BENCH_ARGS)

bench-channels: train
	@$(PY) -m bench.channels $(BENCH_ARGS)

# Held-out residents' questions through POST /api/chat; e.g. BENCH_ARGS="--json /tmp/residents.json"
# or BENCH_ARGS="--url http://127.0.0.1:8000 --kind dialect".
bench-residents: train
	@$(PY) -m bench.residents $(BENCH_ARGS)
