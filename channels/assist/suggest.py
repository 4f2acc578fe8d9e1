"""One caller utterance → what the operator sees: the NLU reading, the top knowledge items, and an
answer to read out (the same wording and citation the bot gives residents), or a plain
"没有把握" when retrieval is not sure, so nobody reads out a guess."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from bot.actions.rendering import ASPECT_OF_INTENT, citation, render_aspect, render_policy
from channels.rasa_client import NluParse
from indexer.api import get_guide, policy_item_text, search
from indexer.chunks import SECTION_LABELS, describe_material
from indexer.schema import Guide
from indexer.search import QueryError, SearchHit, SearchResult

TOP_HITS = 5
# Sections render_aspect has its own wording for; any other section gets the overview.
_RENDERED = {"materials", "conditions", "process", "fees", "time_limit", "location"}
NOT_SURE = "没有把握：知识库里没有找到可靠的答案，请勿照读；可请来电人换个说法，或按流程转办、登记工单。"


class Hit(BaseModel):
    doc_id: str
    kind: str
    title: str
    section: str
    section_label: str
    score: float


class Answer(BaseModel):
    """Text the operator can read out as it stands, with where it came from."""

    kind: Literal["guide", "policy"]
    guide_id: str | None = None
    title: str
    aspect: str
    aspect_label: str
    text: str
    citation: str
    materials: list[str] = Field(default_factory=list)
    notice: str | None = Field(default=None, description="示例数据提示")
    department: str | None = None
    updated: str | None = None
    url: str | None = None


class Suggestion(BaseModel):
    type: Literal["suggestion"] = "suggestion"
    id: int
    text: str
    nlu: NluParse | None = None
    nlu_error: str | None = None
    confident: bool
    reason: str | None = None
    hits: list[Hit]
    answer: Answer | None = None
    not_sure: str | None = None


def retrieve(text: str) -> SearchResult:
    """Blocking: call it from a worker thread in async code."""
    try:
        return search(text, k=TOP_HITS)
    except QueryError as error:
        return SearchResult(query=text, hits=[], confident=False, reason=str(error))


def suggest(
    utterance_id: int,
    text: str,
    result: SearchResult,
    nlu: NluParse | None,
    nlu_error: str | None = None,
) -> Suggestion:
    answer = _answer(result, nlu)
    return Suggestion(
        id=utterance_id,
        text=text,
        nlu=nlu,
        nlu_error=nlu_error,
        confident=answer is not None,
        reason=None if answer is not None else result.reason,
        hits=[_hit(hit) for hit in result.hits],
        answer=answer,
        not_sure=None if answer is not None else NOT_SURE,
    )


def _hit(hit: SearchHit) -> Hit:
    return Hit(
        doc_id=hit.doc_id,
        kind=hit.kind,
        title=hit.title,
        section=hit.section,
        section_label=hit.section_label,
        score=hit.score,
    )


def _answer(result: SearchResult, nlu: NluParse | None) -> Answer | None:
    """The guide the caller names (entity, then a name or alias in the text), else what retrieval
    is confident of; as in the bot's own answering action."""
    guide = _named_guide(nlu)
    if guide is None and result.linked_guides:
        guide = get_guide(result.linked_guides[0])
    if guide is None and result.confident and result.hits:
        top = result.hits[0]
        if top.kind == "policy":
            return _policy_answer(top)
        guide = get_guide(top.doc_id)
    if guide is None:
        return None
    return _guide_answer(guide, _aspect(guide, result, nlu))


def _named_guide(nlu: NluParse | None) -> Guide | None:
    for entity in nlu.entities if nlu else []:
        if entity.entity == "service":
            guide = get_guide(entity.value)
            if guide is not None:
                return guide
    return None


def _aspect(guide: Guide, result: SearchResult, nlu: NluParse | None) -> str:
    """From the intent; without one (NLU down, or an intent such as inform) from the section the
    search matched in this guide (好多钱 → 收费标准)."""
    if nlu and nlu.intent in ASPECT_OF_INTENT:
        return ASPECT_OF_INTENT[nlu.intent]
    section = next((hit.section for hit in result.hits if hit.doc_id == guide.id), None)
    return section if section in _RENDERED else "overview"


def _guide_answer(guide: Guide, aspect: str) -> Answer:
    return Answer(
        kind="guide",
        guide_id=guide.id,
        title=guide.name,
        aspect=aspect,
        aspect_label=SECTION_LABELS.get(aspect, aspect),
        text=render_aspect(guide, aspect),
        citation=citation(guide),
        materials=[describe_material(m) for m in guide.materials] if aspect == "materials" else [],
        notice=guide.sample_notice,
        department=guide.department,
        updated=guide.updated.isoformat(),
        url=guide.online.url,
    )


def _policy_answer(hit: SearchHit) -> Answer:
    item = policy_item_text(hit.doc_id) or hit.text
    return Answer(
        kind="policy",
        title=hit.title,
        aspect="policy",
        aspect_label=SECTION_LABELS["policy"],
        text=render_policy(hit, item),
        citation=f"来源：{hit.title} {hit.section}",
    )
