"""The workbench benchmark runs end to end on small sizes (--quick): every row of its three tables
is printed with figures, and none of its checks fails (rows = turns after a replay, no search
error or stale answer while the index is swapped, a fresh process quotes the new fee)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from core.settings import PROJECT_ROOT, get_settings

pytestmark = pytest.mark.slow

ROWS = (
    "SQL 代理 → SQLite",
    "RabbitMQ → SQLite",
    "重建索引 python -m indexer build（增量）s",
    "新索引写成 → 答出新收费 s",
    "检索 p50 / p95 ms，稳态",
    "检索 p50 / p95 ms，重建与切换期间",
    "检索错误 / 切换后的旧答案",
    "全部看板数字 ms",
    "收件箱分组 ms",
    "导出全部表格 xlsx ms",
)


def test_the_quick_run_prints_every_row_and_no_failure() -> None:
    if not get_settings().index.index_dir.joinpath("manifest.json").exists():
        pytest.skip("需要已构建的索引：make index")
    run = subprocess.run(
        [sys.executable, "-m", "bench.workbench", "--quick"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=900,
    )
    out = run.stdout
    assert run.returncode == 0, out + run.stderr[-3000:]
    lines = out.splitlines()
    for label in ROWS:
        line = next((line for line in lines if line.startswith(label)), None)
        assert line is not None, f"missing row {label!r}:\n{out}"
        assert re.search(r"\d", line[len(label) :]) or "跳过" in line, line
    assert re.search(r"检索错误 / 切换后的旧答案\s+—\s+0 / 0", out), out
    assert out.rstrip().endswith("失败：无"), out
