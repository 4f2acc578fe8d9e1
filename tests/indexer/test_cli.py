"""``python -m indexer`` as a maintainer and the other processes use it, against the built index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


def _run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "indexer", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_search_prints_json_results_with_both_ranks() -> None:
    done = _run("search", "--json", "-k", "3", "新农合今年交好多钱")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    top = result["results"][0]
    assert top["title"] == "城乡居民基本医疗保险参保缴费" and top["section"] == "fees"
    assert {"doc_id", "title", "section", "score", "text", "bm25_rank", "dense_rank"} <= top.keys()
    assert len(result["results"]) == 3 and result["confident"] is True


def test_search_reads_one_question_per_line_from_stdin() -> None:
    done = _run("search", "--json", "-k", "1", stdin="老年证在哪点办\n\n今天天气咋样\n")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["results"][0]["title"] == "老年人优待证办理"
    assert lines[1]["error"].startswith("问题不能为空")
    assert lines[2]["confident"] is False


def test_validate_names_the_broken_file_and_field(tmp_path: Path) -> None:
    guides = tmp_path / "guides"
    guides.mkdir()
    source = PROJECT_ROOT / "knowledge" / "guides" / "gaoling_butie.yaml"
    (guides / "gaoling_butie.yaml").write_text(
        source.read_text(encoding="utf-8").replace("max_visits: 0", "max_visits: 5"), encoding="utf-8"
    )
    done = _run("validate", env={"ZY_KNOWLEDGE__GUIDES_DIR": str(guides)})
    assert done.returncode == 1
    assert "gaoling_butie.yaml: max_visits" in done.stderr
