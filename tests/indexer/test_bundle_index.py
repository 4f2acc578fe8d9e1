"""一件事 bundles are documents of the index: an event question finds its bundle, a question
about one member service still finds that service, and a bad bundle file is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.settings import Settings
from indexer.builder import build_index
from indexer.encoder import DenseEncoder
from indexer.search import Searcher
from tests.indexer.conftest import copy_knowledge, settings_in

pytestmark = pytest.mark.slow

NEWCOMER = {
    "id": "xinlai_zunyi",
    "name": "来遵义居住一件事",
    "sample_notice": "示例数据，以贵州政务服务网公布为准",
    "aliases": ["来遵义居住一件事", "外地人来遵义"],
    "says": [
        "我从外省搬到遵义来住了，要办些啥子",
        "刚来遵义打工，证件要办哪些",
        "外地人在这边住下来手续有哪些",
    ],
    "lead": "先到社区开居住证明，再凭它申领居住证。",
    "steps": [
        {
            "id": "zhengming",
            "guide": "juzhu_zhengming_kaiju",
            "title": "开居住证明",
            "produces": ["居住证明"],
        },
        {
            "id": "juzhuzheng",
            "guide": "juzhuzheng_shenling",
            "title": "申领居住证",
            "depends_on": ["zhengming"],
        },
    ],
    "notes": ["居住满半年才能申领居住证"],
    "updated": "2026-11-30",
}


def _write(folder: Path, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def with_bundles(
    tmp_path_factory: pytest.TempPathFactory, encoder: DenseEncoder
) -> tuple[Settings, Searcher, list]:
    """One build for the module: the tests only read it."""
    root = tmp_path_factory.mktemp("bundles")
    knowledge = copy_knowledge(root / "knowledge")
    _write(knowledge.bundles_dir, NEWCOMER)
    broken = {**NEWCOMER, "id": "bad_member", "name": "坏一件事"}
    broken["steps"] = [NEWCOMER["steps"][0], {**NEWCOMER["steps"][1], "guide": "no_such_guide"}]
    _write(knowledge.bundles_dir, broken)
    _write(knowledge.bundles_dir, {**NEWCOMER, "id": "gaoling_butie", "name": "同名一件事"})
    settings = settings_in(root, knowledge)
    report = build_index(settings, encoder=encoder)
    return settings, Searcher(settings.index, encoder), report.problems


def test_an_event_question_finds_the_bundle_first(with_bundles: tuple[Settings, Searcher, list]) -> None:
    _, searcher, _ = with_bundles
    result = searcher.search("我们一家刚从四川搬来遵义住，要办些啥子手续", k=3)
    assert result.hits[0].kind == "bundle" and result.hits[0].doc_id == "xinlai_zunyi"
    assert searcher.bundle("来遵义居住一件事") is not None


def test_a_member_service_question_still_finds_the_service(
    with_bundles: tuple[Settings, Searcher, list],
) -> None:
    _, searcher, _ = with_bundles
    assert searcher.search("居住证要带哪些材料", k=3).hits[0].doc_id == "juzhuzheng_shenling"
    assert searcher.search("居住证明在哪里开", k=3).hits[0].doc_id == "juzhu_zhengming_kaiju"


def test_a_colloquial_name_of_the_event_links_it(with_bundles: tuple[Settings, Searcher, list]) -> None:
    _, searcher, _ = with_bundles
    assert searcher.search("外地人来遵义要办啥", k=3).linked_bundles == ("xinlai_zunyi",)


def test_bad_bundle_files_are_reported_by_file_and_field_and_skipped(
    with_bundles: tuple[Settings, Searcher, list],
) -> None:
    _, searcher, problems = with_bundles
    by_file = {problem.file.name: problem for problem in problems}
    assert by_file["bad_member.yaml"].field == "steps.1.guide"
    assert "no_such_guide" in by_file["bad_member.yaml"].message
    assert by_file["gaoling_butie.yaml"].field == "id"
    assert set(searcher.bundles) == {"xinlai_zunyi"}
    assert searcher.guide("gaoling_butie") is not None
