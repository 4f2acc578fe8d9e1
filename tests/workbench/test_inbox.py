"""The inbox's groups, with the real e5 query encoder: near-duplicate wordings land in one group,
different questions in different groups, the largest group first, each with what retrieval would
pick for it now."""

from __future__ import annotations

import datetime as dt

import pytest

from core.settings import get_settings
from indexer.builder import make_encoder
from services.analytics_inbox import InboxTurn
from services.models import TurnKind
from workbench.inbox import Suggestion, group_turns

pytestmark = pytest.mark.slow

QUESTIONS = [
    ("web", "低保咋个申请"),
    ("wechat", "低保怎么申请啊"),
    ("web", "低保咋个申请"),
    ("web", "低保怎么申请"),
    ("wechat", "护照过期了在哪里换"),
    ("web", "护照过期了去哪换"),
    ("web", "我家狗不见了咋个办"),
]


def _turns() -> list[InboxTurn]:
    start = dt.datetime(2026, 11, 20, 9, 0)
    return [
        InboxTurn(
            turn_id=f"t{i}",
            at=start + dt.timedelta(hours=i),
            channel=channel,
            text=text,
            kind=TurnKind.fallback,
            intent=None,
            confidence=None,
            guide_id=None,
            rating=None,
            reason="fallback",
        )
        for i, (channel, text) in enumerate(QUESTIONS)
    ]


def test_near_duplicates_are_grouped_and_different_questions_kept_apart() -> None:
    encoder = make_encoder(get_settings())
    asked: list[str] = []

    def suggest(text: str) -> Suggestion | None:
        asked.append(text)
        return (
            Suggestion("zuidi_shenghuo_baozhang_shenqing", "最低生活保障", "办理流程", True)
            if "低保" in text
            else None
        )

    groups = group_turns(
        _turns(),
        encoder.encode_queries,
        similarity=get_settings().workbench.cluster_similarity,
        suggest=suggest,
    )

    texts = [set(group.examples) for group in groups]
    assert texts == [
        {"低保咋个申请", "低保怎么申请啊", "低保怎么申请"},
        {"护照过期了在哪里换", "护照过期了去哪换"},
        {"我家狗不见了咋个办"},
    ]
    dibao = groups[0]
    assert dibao.count == 4 and set(dibao.turn_ids) == {"t0", "t1", "t2", "t3"}
    assert dibao.examples[0] == "低保咋个申请"  # asked twice: the most frequent wording first
    assert dibao.channels == {"web": 3, "wechat": 1}
    assert (dibao.first_seen.hour, dibao.last_seen.hour) == (9, 12)
    assert dibao.suggestion is not None and dibao.suggestion.guide_id == "zuidi_shenghuo_baozhang_shenqing"
    assert groups[2].suggestion is None
    assert len(asked) == 3  # one retrieval per group, not per turn
