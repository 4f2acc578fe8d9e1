# Two commands for a newcomer: `make run` and `make test`. Each sets up what is missing
# and skips what is already done (venvs keep the hash of pyproject.toml, the index keeps
# content hashes of every guide).
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup model index run test lint bench-retrieval validate clean

setup:
	@bash scripts/setup.sh

model: setup
	@$(PY) -m indexer.e5_convert

index: model
	@$(PY) -m indexer build

validate: setup
	@$(PY) -m indexer validate

run: index
	@$(PY) -m services seed
	@echo "Rasa 对话服务与网关尚在开发中；当前可用：检索命令行"
	@echo "  $(PY) -m indexer search \"新农合交好多钱\""

test: index
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/mypy core indexer services

bench-retrieval: index
	@$(PY) -m bench.retrieval

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
