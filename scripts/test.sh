#!/usr/bin/env bash
# `make test`: the Rasa training (about 10 minutes on a fresh machine) runs beside the tests that
# need no trained model; the tests that start Rasa (tests/e2e, the test stories) run after it.
# A test that needs the model before the training ends waits for it (core.rasa_model's lock), so
# the split only decides what overlaps. Extra pytest options come in PYTEST_ARGS.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
# PYTEST_ARGS as the shell would split it (quotes kept: -k "a or b").
eval "extra=(${PYTEST_ARGS:-})"
mkdir -p var
log=var/rasa-train.log
echo "Rasa 模型：需要时在后台训练（日志 $log），同时运行不需要模型的测试…"
$PY -m core.rasa_model >"$log" 2>&1 &
training=$!

$PY -m pytest --durations=10 --ignore=tests/e2e \
    --deselect tests/bot/test_stories.py::test_all_test_stories_pass "${extra[@]}"
without_model=$?

if ! wait "$training"; then
    echo "Rasa 训练失败：" >&2
    tail -n 40 "$log" >&2
    exit 1
fi
tail -n 1 "$log"

$PY -m pytest --durations=10 tests/e2e tests/bot/test_stories.py::test_all_test_stories_pass "${extra[@]}"
with_model=$?

[ "$without_model" -eq 0 ] && [ "$with_model" -eq 0 ]
