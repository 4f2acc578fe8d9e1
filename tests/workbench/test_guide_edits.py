"""Aliases and FAQs staff add from the inbox: written into the guide's YAML without disturbing the
rest of it, checked by the guide schema before anything is written, and found by retrieval once
the index is rebuilt. Every test edits a temporary copy of the knowledge."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))  # workbench_support

from workbench_support import KNOWLEDGE, copy_knowledge, settings_in

from core.settings import KnowledgeSettings, get_settings
from indexer.builder import build_index, make_encoder
from indexer.loader import load_guides
from indexer.search import Searcher
from services.errors import InvalidInput, NotFound
from workbench.guide_edits import add_alias, add_faq, round_trip

COMMENT = "# 别名经窗口核实（示例注释，测试用）\n"


@pytest.fixture
def knowledge(tmp_path: Path) -> KnowledgeSettings:
    copied = copy_knowledge(tmp_path / "knowledge")
    guide = copied.guides_dir / "gaoling_butie.yaml"
    text = guide.read_text(encoding="utf-8")
    guide.write_text(text.replace("aliases:\n", COMMENT + "aliases:  # 俗称\n", 1), encoding="utf-8")
    return copied


def _guide(knowledge: KnowledgeSettings, guide_id: str) -> dict:
    return yaml.safe_load((knowledge.guides_dir / f"{guide_id}.yaml").read_text(encoding="utf-8"))


def test_round_trip_leaves_every_guide_of_the_repository_byte_for_byte_as_it_was() -> None:
    import io

    for path in sorted((KNOWLEDGE / "guides").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        buffer = io.StringIO()
        round_trip().dump(round_trip().load(text), buffer)
        assert buffer.getvalue() == text, path.name


def test_an_alias_is_appended_and_the_rest_of_the_file_is_kept(knowledge: KnowledgeSettings) -> None:
    path = knowledge.guides_dir / "gaoling_butie.yaml"
    before = path.read_text(encoding="utf-8")
    other = (knowledge.guides_dir / "jiehun_dengji.yaml").read_bytes()

    edit = add_alias(knowledge, "gaoling_butie", "  黔老福  ")

    after = path.read_text(encoding="utf-8")
    assert edit.value == "黔老福" and edit.guide_name == _guide(knowledge, "gaoling_butie")["name"]
    assert _guide(knowledge, "gaoling_butie")["aliases"][-1] == "黔老福"
    assert COMMENT in after and "aliases:  # 俗称\n" in after
    # Only the new line differs: order, quoting and folded text are untouched.
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["  - 黔老福"]
    assert load_guides(knowledge.guides_dir, knowledge.halls_file).problems == ()
    assert (knowledge.guides_dir / "jiehun_dengji.yaml").read_bytes() == other
    assert not list(knowledge.guides_dir.glob("*.tmp")) and not list(knowledge.guides_dir.glob(".*"))


def test_a_faq_is_appended_with_the_staff_answer(knowledge: KnowledgeSettings) -> None:
    add_faq(knowledge, "gaoling_butie", "在外地住的老人能不能领？", "户籍在遵义的可以，\n由户籍地申请。")
    faq = _guide(knowledge, "gaoling_butie")["faqs"][-1]
    assert faq == {"q": "在外地住的老人能不能领？", "a": "户籍在遵义的可以，\n由户籍地申请。"}
    assert load_guides(knowledge.guides_dir, knowledge.halls_file).problems == ()


@pytest.mark.parametrize(
    ("edit", "field", "says"),
    [
        (lambda k: add_alias(k, "gaoling_butie", "   "), "aliases", "请填写别名"),
        (lambda k: add_alias(k, "gaoling_butie", "高龄津贴" * 10), "aliases", "不能超过30个字"),
        (lambda k: add_alias(k, "gaoling_butie", "13985001234"), "aliases", "手机号"),
        (
            lambda k: add_alias(k, "gaoling_butie", _guide(k, "gaoling_butie")["aliases"][0]),
            "aliases",
            "已经是",
        ),
        (lambda k: add_alias(k, "gaoling_butie", _guide(k, "jiehun_dengji")["name"]), "aliases", "结婚"),
        (lambda k: add_faq(k, "gaoling_butie", "能不能领？", ""), "faqs.a", "请填写答案"),
        (
            lambda k: add_faq(k, "gaoling_butie", _guide(k, "gaoling_butie")["faqs"][0]["q"], "答"),
            "faqs",
            "已有",
        ),
        (lambda k: add_alias(k, "../halls", "别名"), "guide_id", "格式不正确"),
    ],
)
def test_an_invalid_edit_is_refused_naming_the_field_and_no_file_changes(
    knowledge: KnowledgeSettings, edit, field: str, says: str
) -> None:
    before = {path.name: path.read_bytes() for path in knowledge.guides_dir.iterdir()}
    with pytest.raises(InvalidInput, match=says) as refused:
        edit(knowledge)
    assert refused.value.field == field
    assert {path.name: path.read_bytes() for path in knowledge.guides_dir.iterdir()} == before


def test_an_edit_that_would_leave_the_guide_failing_its_schema_is_refused_before_writing(
    knowledge: KnowledgeSettings,
) -> None:
    path = knowledge.guides_dir / "gaoling_butie.yaml"
    broken = path.read_text(encoding="utf-8").replace("max_visits: ", "max_visits: 5  # ", 1)
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"未通过校验，未保存：.*max_visits") as refused:
        add_alias(knowledge, "gaoling_butie", "黔老福")
    assert refused.value.field == "max_visits"
    assert path.read_text(encoding="utf-8") == broken


def test_a_missing_guide_is_not_found(knowledge: KnowledgeSettings) -> None:
    with pytest.raises(NotFound, match="没有这个办事指南"):
        add_alias(knowledge, "no_such_guide", "别名")


@pytest.mark.slow
def test_after_publishing_the_new_wording_finds_the_guide_first(
    knowledge: KnowledgeSettings, tmp_path: Path
) -> None:
    settings = settings_in(tmp_path, knowledge)
    # Start from the project's built index: its stored passage vectors make this build take
    # seconds instead of encoding all 1,600 passages again.
    shutil.copytree(get_settings().index.index_dir, settings.index.index_dir)
    encoder = make_encoder(settings)
    build_index(settings, encoder=encoder)
    question = "领红本本要带啥"  # 红本本: the marriage certificate, a wording the guide lacks
    before = Searcher(settings.index, encoder).search(question, k=3)
    assert not (before.confident and before.hits[0].doc_id == "jiehun_dengji")

    add_alias(knowledge, "jiehun_dengji", "红本本")
    report = build_index(settings, encoder=encoder)

    assert not report.up_to_date and report.problems == []
    after = Searcher(settings.index, encoder).search(question, k=3)
    assert after.hits[0].doc_id == "jiehun_dengji" and after.confident
    assert after.linked_guides == ("jiehun_dengji",)
