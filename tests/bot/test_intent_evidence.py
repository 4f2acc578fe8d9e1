"""Retrieval first: chat and yes/no labels give way to words that carry a question, and a
complaint or 转人工 label needs words that ask for one (no ticket from a misread intent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.nlu.intent_evidence import IntentEvidence, service_terms

TERMS = frozenset({"低保", "高龄补贴", "公积金", "身份证"})


@pytest.fixture
def evidence() -> IntentEvidence:
    return IntentEvidence(TERMS)


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("greet", "喂你好我想问下我奶奶今年85了有没有啥子补贴可以领"),
        ("affirm", "嗯嗯对的就是那个屋头老人满了八十岁的那个钱咋个领"),
        ("greet", "你好 低保"),
        ("thank", "谢谢 公积金呢"),
        ("complaint", "公司年报忘记报了现在被列入异常名录了好麻烦哦咋个补报"),
        ("complaint", "买了台收割机说是有补贴结果等了好久都没到账烦死了"),
        ("request_human", "有没有办身份证的地方离我近点的"),
    ],
)
def test_words_with_a_question_overrule_the_label(evidence: IntentEvidence, intent: str, text: str) -> None:
    assert evidence.overrules(intent, text)


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("greet", "你好"),
        ("greet", "喂，在不在"),
        ("thank", "好的谢谢你啊辛苦了"),
        ("affirm", "要得"),
        ("deny", "不是这个"),
        ("goodbye", "拜拜"),
        ("complaint", "我要投诉"),
        ("complaint", "我想举报一个窗口工作人员吃拿卡要"),
        ("request_human", "转人工"),
        ("request_human", "喂 有人没得"),
        ("ask_materials", "随便什么问题"),
    ],
)
def test_the_label_stands_when_the_words_are_just_that(
    evidence: IntentEvidence, intent: str, text: str
) -> None:
    assert not evidence.overrules(intent, text)


def test_service_terms_come_from_the_index_dictionary(tmp_path: Path) -> None:
    path = tmp_path / "dictionary.json"
    path.write_text(json.dumps({"guide_links": {"低保": ["x"], "证": ["y"]}}, ensure_ascii=False), "utf-8")
    assert service_terms(path) == frozenset({"低保"})
    assert service_terms(tmp_path / "missing.json") == frozenset()
