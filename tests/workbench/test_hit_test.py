"""命中测试 on the project's built index (read only): the ranks and scores behind a known question,
and an honest "not sure" for nonsense."""

from __future__ import annotations

import pytest

from core.settings import get_settings
from indexer.search import QueryError
from workbench.hit_test import hit_test

pytestmark = pytest.mark.slow


def test_a_known_question_shows_its_ranks_scores_and_the_answer_residents_get() -> None:
    tested = hit_test("高齡補貼要帶哪些材料", get_settings())

    explanation = tested.explanation
    assert explanation.normalized == "高龄补贴要带哪些材料"  # traditional → simplified
    assert "gaoling_butie" in explanation.linked_guides
    top = explanation.documents[0]
    assert (top.doc_id, top.hybrid_rank) == ("gaoling_butie", 1)
    assert top.bm25_rank is not None and top.bm25_score and top.bm25_score > 0
    assert top.dense_rank is not None and 0 < (top.dense_score or 0) <= 1
    ranked = [d.hybrid_rank for d in explanation.documents if d.hybrid_rank is not None]
    assert ranked == sorted(ranked) and ranked[0] == 1

    decision = tested.decision
    assert (decision.kind, decision.guide_id, decision.section) in {
        ("answer", "gaoling_butie", "materials"),
        ("ask_situation", "gaoling_butie", "materials"),
    }
    assert decision.evidence == "named" and decision.confident
    assert "材料" in tested.reply and "高龄" in tested.reply


def test_nonsense_gets_a_not_sure_decision_and_the_reply_that_says_so() -> None:
    tested = hit_test("紫色的风扇在唱歌吗", get_settings())
    assert tested.decision.kind in {"not_sure", "out_of_scope"}
    assert tested.decision.guide_id is None
    if tested.decision.kind == "not_sure":
        assert not tested.decision.confident
        assert "没有把握" in tested.reply
    dense = next(check for check in tested.checks if check.label == "稠密相似度（回答阈值）")
    assert not dense.passed


def test_an_empty_question_is_refused() -> None:
    with pytest.raises(QueryError):
        hit_test("   ", get_settings())
