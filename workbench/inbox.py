"""The unanswered-question inbox as 知识 staff see it: candidate turns grouped by meaning, largest
group first, each with the guide retrieval would pick for it now as the suggested attachment.

Identical wordings are encoded once; groups are made of distinct wordings (workbench/clusters.py)
and then counted in turns.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from core.settings import Settings
from indexer.api import get_searcher, search
from indexer.search import QueryError
from services.analytics_inbox import InboxTurn
from services.facade import Services
from workbench.clusters import Encode, cluster_questions

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Suggestion:
    """The guide retrieval puts first for the group's typical question."""

    guide_id: str
    title: str
    section_label: str
    confident: bool


@dataclass(frozen=True)
class InboxGroup:
    label: str  # the typical question
    count: int  # turns
    turn_ids: tuple[str, ...]
    examples: tuple[str, ...]  # distinct wordings, most frequent first
    channels: dict[str, int]
    reasons: dict[str, int]  # fallback | low_confidence | low_rating → turns
    first_seen: dt.datetime
    last_seen: dt.datetime
    suggestion: Suggestion | None


Suggest = Callable[[str], Suggestion | None]


def inbox_groups(
    services: Services,
    settings: Settings,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    encode: Encode | None = None,
    suggest: Suggest | None = None,
) -> list[InboxGroup]:
    """Blocking (encodes every distinct wording): call it off the event loop."""
    cfg = settings.workbench
    turns = services.inbox_candidates(
        since=since,
        until=until,
        low_confidence=cfg.low_confidence,
        low_rating=cfg.low_rating,
        limit=cfg.inbox_max_turns,
    )
    return group_turns(
        turns,
        encode or (lambda texts: get_searcher().encoder.encode_queries(texts)),
        similarity=cfg.cluster_similarity,
        suggest=suggest or suggest_guide,
    )


def group_turns(
    turns: list[InboxTurn], encode: Encode, *, similarity: float, suggest: Suggest
) -> list[InboxGroup]:
    by_text: dict[str, list[InboxTurn]] = {}
    for turn in turns:
        by_text.setdefault(turn.text, []).append(turn)
    texts = list(by_text)
    groups = []
    for cluster in cluster_questions(texts, encode, similarity=similarity):
        wordings = [texts[i] for i in cluster.members]
        members = [turn for text in wordings for turn in by_text[text]]
        frequent = sorted(wordings, key=lambda text: (-len(by_text[text]), wordings.index(text)))
        groups.append(
            InboxGroup(
                label=cluster.label,
                count=len(members),
                turn_ids=tuple(turn.turn_id for turn in members),
                examples=tuple(frequent[:MAX_EXAMPLES]),
                channels=dict(Counter(turn.channel for turn in members).most_common()),
                reasons=dict(Counter(turn.reason for turn in members).most_common()),
                first_seen=min(turn.at for turn in members),
                last_seen=max(turn.at for turn in members),
                suggestion=suggest(cluster.label),
            )
        )
    groups.sort(key=lambda group: (-group.count, -group.last_seen.timestamp()))
    return groups


def suggest_guide(text: str) -> Suggestion | None:
    """The guide the live index ranks first for ``text`` (policy items are not attachable)."""
    try:
        result = search(text, k=3)
    except QueryError:
        return None
    hit = next((hit for hit in result.hits if hit.kind == "guide"), None)
    if hit is None:
        return None
    return Suggestion(hit.doc_id, hit.title, hit.section_label, result.confident)
