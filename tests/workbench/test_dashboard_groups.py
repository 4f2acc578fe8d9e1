"""The dashboard's most frequent unanswered questions: near-duplicate wordings counted as one group
with the real e5 query encoder, the most frequent wording naming it."""

from __future__ import annotations

import datetime as dt

import pytest

from core.settings import get_settings
from indexer.builder import make_encoder
from services.analytics_queries import UnansweredText
from workbench.dashboard import group_unanswered

AT = dt.datetime(2026, 11, 20, 10)
TEXTS = [
    UnansweredText("低保咋个申请", 9, AT),
    UnansweredText("公积金能贷多少钱", 6, AT),
    UnansweredText("低保怎么申请啊", 4, AT),
    UnansweredText("港澳通行证在哪里办", 3, AT),
    UnansweredText("低保怎么申请", 2, AT),
    UnansweredText("遵义哪里可以办港澳通行证", 1, AT),
]


@pytest.mark.slow
def test_near_duplicates_are_one_group_counted_together() -> None:
    encoder = make_encoder(get_settings())
    groups = group_unanswered(
        TEXTS, encoder.encode_queries, similarity=get_settings().workbench.cluster_similarity, limit=10
    )
    first = groups[0]
    assert (first.label, first.count, first.variants) == ("低保咋个申请", 15, 3)
    assert first.examples == ["低保怎么申请啊", "低保怎么申请"]
    labels = [g.label for g in groups]
    assert "公积金能贷多少钱" in labels and "港澳通行证在哪里办" in labels
    assert sum(g.count for g in groups) == sum(t.count for t in TEXTS)


def test_without_an_encoder_each_wording_is_its_own_group() -> None:
    groups = group_unanswered(TEXTS, None, similarity=0.9, limit=3)
    assert [(g.label, g.count, g.variants) for g in groups] == [
        ("低保咋个申请", 9, 1),
        ("公积金能贷多少钱", 6, 1),
        ("低保怎么申请啊", 4, 1),
    ]
