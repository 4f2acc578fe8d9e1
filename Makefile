# Two commands for a newcomer: `make run` and `make test`. Each sets up what is missing
# and skips what is already done (venvs keep the hash of pyproject.toml, the index keeps
# content hashes of every guide).
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup model index train run run-scaled test lint bench-retrieval bench-nlu validate clean

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

# N copies of each process behind nginx on PostgreSQL + Redis (README: 运维). The defaults suit
# this machine's local PostgreSQL and Redis; override any ZY_ variable in the environment.
REPLICAS ?= 2
run-scaled: export ZY_SERVICES__DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
run-scaled: export ZY_GATEWAY__REDIS_URL ?= redis://127.0.0.1:6379/0
run-scaled: export ZY_WECHAT__REDIS_URL ?= redis://127.0.0.1:6379/0
run-scaled: export ZY_RASA__ENDPOINTS ?= endpoints.production.yml
run-scaled: train
	@bash scripts/setup_nginx.sh
	@$(PY) -m services seed
	@$(PY) -m core.run --replicas $(REPLICAS)

test: index
	@bash scripts/setup_browser.sh
	@bash scripts/setup_nginx.sh
	@PYTEST_ARGS="$(PYTEST_ARGS)" bash scripts/test.sh

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/mypy core indexer services answering workbench channels bot bench

bench-retrieval: index
	@$(PY) -m bench.retrieval

bench-nlu: train
	@$(PY) -m bench.nlu

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

.PHONY: bench-dialogue bench-channels bench-residents bench-faults bench-scale bench-workbench

# BENCH_ARGS: e.g. BENCH_ARGS=--train (time a forced training) or BENCH_ARGS="--seconds 120".
bench-dialogue: train
	@$(PY) -m bench.dialogue $(BENCH_ARGS)

bench-channels: train
	@$(PY) -m bench.channels $(BENCH_ARGS)

# Held-out residents' questions through POST /api/chat; e.g. BENCH_ARGS="--json /tmp/residents.json"
# or BENCH_ARGS="--url http://127.0.0.1:8000 --kind dialect".
bench-residents: train
	@$(PY) -m bench.residents $(BENCH_ARGS)

# The scaled setting (2 copies of each process, nginx, a scratch PostgreSQL and Redis) under faults,
# and 1 vs 2 copies side by side (BENCH_ARGS="--seconds 30" for a shorter run).
bench-faults: train
	@bash scripts/setup_nginx.sh
	@$(PY) -m bench.faults $(BENCH_ARGS)

bench-scale: train
	@bash scripts/setup_nginx.sh
	@$(PY) -m bench.scale $(BENCH_ARGS)

# The workbench: ingest throughput (SQL broker, RabbitMQ), a guide edit going live without a
# restart, the dashboard on a seeded month; e.g. BENCH_ARGS="--turns 2000 --postgres URL" or --quick.
bench-workbench: index
	@$(PY) -m bench.workbench $(BENCH_ARGS)
