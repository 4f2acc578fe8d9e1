"""Build a real index (real model, BM25, FAISS) from a small knowledge copy and search it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from core.settings import KnowledgeSettings, Settings
from indexer.builder import build_index
from indexer.encoder import DenseEncoder
from indexer.search import QueryError, Searcher, SearchFilters
from tests.indexer.conftest import copy_knowledge, settings_in

pytestmark = pytest.mark.slow


def _build(root: Path, encoder: DenseEncoder) -> tuple[Settings, Searcher]:
    settings = settings_in(root, copy_knowledge(root / "knowledge"))
    report = build_index(settings, encoder=encoder)
    assert report.guides == 4 and report.embedded == report.chunks
    return settings, Searcher(settings.index, encoder)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, encoder: DenseEncoder) -> tuple[Settings, Searcher]:
    """One index shared by the read-only tests."""
    return _build(tmp_path_factory.mktemp("shared"), encoder)


@pytest.fixture
def own_index(tmp_path: Path, encoder: DenseEncoder) -> tuple[Settings, Searcher]:
    """An index a test may change."""
    return _build(tmp_path, encoder)


def test_round_trip_finds_the_guide_and_section(built: tuple[Settings, Searcher]) -> None:
    _, searcher = built
    result = searcher.search("新农合今年交好多钱", k=3)
    assert result.confident
    top = result.hits[0]
    assert (top.title, top.section) == ("城乡居民基本医疗保险参保缴费", "fees")
    assert "元" in top.text
    assert top.bm25_rank is not None and top.dense_rank is not None


def test_policy_items_are_cited(built: tuple[Settings, Searcher]) -> None:
    _, searcher = built
    top = searcher.search("办一件事最多要跑几趟大厅", k=3).hits[0]
    assert top.doc_id == "zunyi-fubanfa-2017-39#5"
    assert top.section.startswith("第5条")
    assert "遵府办发〔2017〕39号" in top.title


def test_unchanged_knowledge_is_not_rebuilt(
    own_index: tuple[Settings, Searcher], encoder: DenseEncoder
) -> None:
    settings, _ = own_index
    again = build_index(settings, encoder=encoder)
    assert again.up_to_date and again.embedded == 0


def test_only_the_changed_guide_is_re_embedded(
    own_index: tuple[Settings, Searcher], encoder: DenseEncoder
) -> None:
    settings, _ = own_index
    path = settings.knowledge.guides_dir / "gaoling_butie.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["fees"]["standard"] = "不收费，亦不收取工本费"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    report = build_index(settings, encoder=encoder)
    assert not report.up_to_date
    assert 1 <= report.embedded <= 2  # the fees chunk (and nothing from the other guides)
    assert report.reused == report.chunks - report.embedded
    top = Searcher(settings.index, encoder).search("高龄补贴收不收费", k=1).hits[0]
    assert "亦不收取工本费" in top.text


def test_an_invalid_guide_is_skipped_and_the_others_indexed(
    knowledge_copy: KnowledgeSettings, settings_for: Callable[..., Settings], encoder: DenseEncoder
) -> None:
    (knowledge_copy.guides_dir / "broken.yaml").write_text("id: broken\nname: 坏文件\n", encoding="utf-8")
    report = build_index(settings_for(knowledge_copy), encoder=encoder)
    assert report.guides == 4
    assert report.skipped_files and report.skipped_files[0].endswith("broken.yaml")
    assert "broken.yaml" in report.summary()


def test_index_built_with_another_model_says_so(
    built: tuple[Settings, Searcher], encoder: DenseEncoder
) -> None:
    settings, _ = built
    other = DenseEncoder(encoder.model_path, query_prefix="q: ", passage_prefix="p: ")
    with pytest.raises(RuntimeError, match="重新运行 python -m indexer build"):
        Searcher(settings.index, other)


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_empty_question_is_a_clear_error(built: tuple[Settings, Searcher], query: str) -> None:
    _, searcher = built
    with pytest.raises(QueryError, match="问题不能为空"):
        searcher.search(query)


def test_awkward_questions_never_crash(built: tuple[Settings, Searcher]) -> None:
    _, searcher = built
    long = searcher.search("高龄补贴" * 2500, k=3)
    assert long.truncated and long.hits
    emoji = searcher.search("😀😀🎉！！？？…", k=3)
    assert emoji.hits == [] and not emoji.confident
    sql = searcher.search("'; DROP TABLE guides; -- 高龄补贴", k=3)
    assert sql.hits[0].title == "高龄补贴申领"
    traditional = searcher.search("高齡補貼要帶哪些材料", k=1)
    assert traditional.hits[0].title == "高龄补贴申领" and traditional.hits[0].section == "materials"


def test_unrelated_question_is_not_confident(built: tuple[Settings, Searcher]) -> None:
    _, searcher = built
    assert not searcher.search("今天遵义天气咋样", k=3).confident


def test_filters_restrict_to_a_guide(built: tuple[Settings, Searcher]) -> None:
    _, searcher = built
    hits = searcher.search(
        "要带什么材料", k=5, filters=SearchFilters(doc_ids=frozenset({"juzhuzheng_shenling"}))
    ).hits
    assert [hit.doc_id for hit in hits] == ["juzhuzheng_shenling"]
    assert hits[0].section == "materials"
