"""One caller utterance → what the operator sees: the NLU reading, the top knowledge items, and an
answer to read out (the same wording and citation the bot gives residents), or a plain
"没有把握" when retrieval is not sure, so nobody reads out a guess."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from answering.core import decide
from answering.decision import Decision, Kind
from answering.precheck import plan_source, render_precheck
from answering.render import citation, render_aspect, render_policy
from answering.render_bundle import bundle_text
from answering.turn import Turn
from channels.rasa_client import NluParse
from indexer.api import policy_item_text, search
from indexer.chunks import SECTION_LABELS, describe_material
from indexer.search import QueryError, SearchHit, SearchResult

TOP_HITS = 5
NOT_SURE = "没有把握：知识库里没有找到可靠的答案，请勿照读；可请来电人换个说法，或按流程转办、登记工单。"
OFF_TOPIC = "没有把握：像是与政务服务无关的问题，请勿照读指南；可礼貌说明并告知 12345 的受理范围。"
NOT_COVERED = "没有把握：知识库里没有{what}的指南，「{guide}」不包括{what}，请勿照读它的材料。"


class Hit(BaseModel):
    doc_id: str
    kind: str
    title: str
    section: str
    section_label: str
    score: float


class Answer(BaseModel):
    """Text the operator can read out as it stands, with where it came from."""

    kind: Literal["guide", "policy", "bundle", "precheck"]
    guide_id: str | None = None
    situation: str | None = Field(default=None, description="情形：来电人描述的或需要问清的")
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
    decision: str = Field(description="answer / ask_situation / clarify / policy / out_of_scope / not_sure")
    options: list[str] = Field(default_factory=list, description="事项：要问清来电人是哪一项")
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
    """The answering core's decision for the caller's words, as the operator sees it."""
    decision = decide(_turn(text, nlu), result=result)
    answer = _answer(decision)
    options = [guide.name for guide in decision.options]
    if decision.kind is Kind.ask_situation and decision.guide is not None:
        options = [situation.name for situation in decision.guide.situations]
    return Suggestion(
        id=utterance_id,
        text=text,
        nlu=nlu,
        nlu_error=nlu_error,
        confident=answer is not None,
        reason=None if answer is not None else (result.reason or decision.evidence),
        hits=[_hit(hit) for hit in result.hits],
        decision=decision.kind.value,
        options=options,
        answer=answer,
        not_sure=None if answer is not None else _not_sure(decision),
    )


def _not_sure(decision: Decision) -> str:
    if decision.kind is Kind.out_of_scope:
        return OFF_TOPIC
    if decision.guide is not None and decision.uncovered is not None:
        return NOT_COVERED.format(what=decision.uncovered, guide=decision.guide.name)
    return NOT_SURE


def _turn(text: str, nlu: NluParse | None) -> Turn:
    if nlu is None:
        return Turn(text=text)
    services = tuple(entity.value for entity in nlu.entities if entity.entity == "service")
    return Turn(text=text, intent=nlu.intent, confidence=nlu.confidence or 0.0, services=services)


def _hit(hit: SearchHit) -> Hit:
    return Hit(
        doc_id=hit.doc_id,
        kind=hit.kind,
        title=hit.title,
        section=hit.section,
        section_label=hit.section_label,
        score=hit.score,
    )


def _answer(decision: Decision) -> Answer | None:
    if decision.kind is Kind.policy and decision.policy is not None:
        return _policy_answer(decision.policy)
    if decision.kind is Kind.bundle and decision.plan is not None:
        return _bundle_answer(decision)
    if decision.kind is Kind.precheck and decision.precheck is not None:
        return _precheck_answer(decision)
    guide = decision.guide
    if decision.kind not in (Kind.answer, Kind.ask_situation) or guide is None:
        return None
    situation = decision.situation
    text = render_aspect(guide, decision.aspect, situation)
    if situation is not None:
        text = f"情形“{situation.name}”：{situation.guidance}\n{text}"
    materials = [*guide.materials, *(situation.extra_materials if situation else [])]
    return Answer(
        kind="guide",
        guide_id=guide.id,
        situation=situation.name if situation else None,
        title=guide.name,
        aspect=decision.aspect,
        aspect_label=SECTION_LABELS.get(decision.aspect, decision.aspect),
        text=text,
        citation=citation(guide),
        materials=[describe_material(m) for m in materials] if decision.aspect == "materials" else [],
        notice=guide.sample_notice,
        department=guide.department,
        updated=guide.updated.isoformat(),
        url=guide.online.url,
    )


def _bundle_answer(decision: Decision) -> Answer:
    """A life event read out step by step: the same text residents get, the steps' guides cited."""
    plan = decision.plan
    assert plan is not None
    return Answer(
        kind="bundle",
        title=plan.bundle.name,
        aspect=decision.aspect,
        aspect_label=SECTION_LABELS["bundle"],
        text=bundle_text(plan, decision.aspect, decision.full),
        citation=plan_source(plan),
        notice=plan.bundle.sample_notice,
        updated=plan.bundle.updated.isoformat(),
    )


def _precheck_answer(decision: Decision) -> Answer:
    result = decision.precheck
    assert result is not None
    return Answer(
        kind="precheck",
        guide_id=decision.guide.id if decision.guide is not None else None,
        title=result.subject,
        aspect="precheck",
        aspect_label="材料预审",
        text=render_precheck(result),
        citation=result.source,
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
