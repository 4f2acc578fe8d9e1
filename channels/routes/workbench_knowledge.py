"""The workbench's knowledge routes (role 知识): the unanswered-question inbox and what staff do
with a group, the 命中测试, and 发布 (rebuild the index after guide edits).

Parse, call workbench/, render. Blocking work (encoding, file edits, the index build) runs off the
event loop. The actor of every change is the signed-in login, never a name from the request.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from channels.dependencies import SettingsDep
from channels.rasa_client import NluParse, RasaClient, RasaUnavailable
from channels.routes.services import ERRORS, ChineseErrorsRoute, ServicesDep
from channels.staff_auth import error, require
from indexer.api import list_guides
from indexer.search import QueryError
from services.models import StaffRole
from services.staff import SignedIn
from workbench import inbox_actions, nlu_labels
from workbench.hit_test import hit_test
from workbench.inbox import inbox_groups
from workbench.publish import publish

log = logging.getLogger(__name__)
router = APIRouter(
    prefix="/api/workbench", tags=["服务中心工作台"], route_class=ChineseErrorsRoute, responses=ERRORS
)
KnowledgeDep = Annotated[SignedIn, require(StaffRole.knowledge)]
TurnIds = Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=1000)]
PARSE_SECONDS = 2.0
NLU_DOWN = "语义解析暂不可用（Rasa 未响应），以下按没有意图识别结果计算。"


class View(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SuggestionView(View):
    guide_id: str
    title: str
    section_label: str
    confident: bool


class GroupView(View):
    label: str
    count: int
    turn_ids: list[str]
    examples: list[str]
    channels: dict[str, int]
    reasons: dict[str, int]
    first_seen: dt.datetime
    last_seen: dt.datetime
    suggestion: SuggestionView | None


class GuideOption(BaseModel):
    id: str
    name: str


class InboxPage(BaseModel):
    groups: list[GroupView]
    turns: int
    limit: int = Field(
        description="At most this many turns are read (the newest); more wait for the next look"
    )
    guides: list[GuideOption]
    intents: list[str]


class Group(BaseModel):
    turn_ids: TurnIds


class AliasRequest(Group):
    guide_id: str = Field(max_length=64)
    alias: str = Field(max_length=100)


class FaqRequest(Group):
    guide_id: str = Field(max_length=64)
    question: str = Field(max_length=400)
    answer: str = Field(max_length=4000)


class IntentRequest(Group):
    intent: str = Field(max_length=64)


class ReviewedView(View):
    outcome: str
    turns: int
    message: str


class DocumentView(View):
    doc_id: str
    kind: str
    title: str
    hybrid_rank: int | None
    hybrid_score: float | None
    section_label: str | None
    bm25_rank: int | None
    bm25_score: float | None
    dense_rank: int | None
    dense_score: float | None


class CheckView(View):
    label: str
    value: float | None
    threshold: float
    passed: bool


class DecisionView(View):
    kind: str
    kind_label: str
    evidence: str
    evidence_label: str
    confident: bool
    reason: str | None
    guide_id: str | None
    guide_name: str | None
    section: str | None
    section_label: str | None
    situation: str | None
    faq_question: str | None
    policy_title: str | None
    options: list[str]


class HitTestView(BaseModel):
    query: str
    normalized: str
    corrected: str
    corrections: list[tuple[str, str]]
    tokens: list[str]
    bm25_text: str
    dense_text: str
    linked_guides: list[str]
    linked_names: list[str]
    asked_section: str | None
    asked_section_label: str | None
    nlu: NluParse | None
    nlu_error: str | None
    documents: list[DocumentView]
    decision: DecisionView
    checks: list[CheckView]
    reply: str
    buttons: list[str]


class PublishedView(View):
    summary: str
    problems: list[str]
    up_to_date: bool
    guides: int
    chunks: int


@router.get("/inbox", summary="待答问题：按相近问法分组，大组在前")
async def inbox(
    staff: KnowledgeDep,
    services: ServicesDep,
    settings: SettingsDep,
    since: Annotated[dt.date | None, Query(description="起始日期（含）")] = None,
    until: Annotated[dt.date | None, Query(description="截止日期（含）")] = None,
) -> InboxPage:
    start = dt.datetime.combine(since, dt.time()) if since else None
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time()) if until else None
    groups = await run_in_threadpool(inbox_groups, services, settings, since=start, until=end)
    guides = await run_in_threadpool(list_guides)
    return InboxPage(
        groups=[GroupView.model_validate(group) for group in groups],
        turns=sum(group.count for group in groups),
        limit=settings.workbench.inbox_max_turns,
        guides=[GuideOption(id=guide.id, name=guide.name) for guide in guides],
        intents=nlu_labels.known_intents(),
    )


@router.post("/inbox/alias", summary="把一组问法加为某个办事指南的别名")
async def attach_alias(
    body: AliasRequest, staff: KnowledgeDep, services: ServicesDep, settings: SettingsDep
) -> ReviewedView:
    done = await run_in_threadpool(
        lambda: inbox_actions.attach_alias(
            services, settings, body.turn_ids, body.guide_id, body.alias, actor=staff.member.login
        )
    )
    return ReviewedView.model_validate(done)


@router.post("/inbox/faq", summary="把一组问题加为某个办事指南的常见问题（问题和答案由工作人员填写）")
async def attach_faq(
    body: FaqRequest, staff: KnowledgeDep, services: ServicesDep, settings: SettingsDep
) -> ReviewedView:
    done = await run_in_threadpool(
        lambda: inbox_actions.attach_faq(
            services,
            settings,
            body.turn_ids,
            body.guide_id,
            body.question,
            body.answer,
            actor=staff.member.login,
        )
    )
    return ReviewedView.model_validate(done)


@router.post("/inbox/intent", summary="标注正确意图（写入供下次训练的标注文件）")
async def label_intent(
    body: IntentRequest, staff: KnowledgeDep, services: ServicesDep, settings: SettingsDep
) -> ReviewedView:
    done = await run_in_threadpool(
        lambda: inbox_actions.label_intent(
            services, settings, body.turn_ids, body.intent, actor=staff.member.login
        )
    )
    return ReviewedView.model_validate(done)


@router.post("/inbox/out-of-scope", summary="标为不属于政务服务")
async def mark_out_of_scope(
    body: Group, staff: KnowledgeDep, services: ServicesDep, settings: SettingsDep
) -> ReviewedView:
    done = await run_in_threadpool(
        lambda: inbox_actions.mark_out_of_scope(services, settings, body.turn_ids, actor=staff.member.login)
    )
    return ReviewedView.model_validate(done)


@router.post("/inbox/dismiss", summary="忽略这组问题")
async def dismiss(
    body: Group, staff: KnowledgeDep, services: ServicesDep, settings: SettingsDep
) -> ReviewedView:
    done = await run_in_threadpool(
        lambda: inbox_actions.dismiss(services, settings, body.turn_ids, actor=staff.member.login)
    )
    return ReviewedView.model_validate(done)


@router.get("/hit-test", summary="命中测试：检索排名、得分与回答决策")
async def run_hit_test(
    request: Request,
    staff: KnowledgeDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=500, description="问题")],
) -> HitTestView:
    nlu, nlu_error = await _parse(request, q)
    services = tuple(entity.value for entity in nlu.entities if entity.entity == "service") if nlu else ()
    try:
        tested = await run_in_threadpool(
            lambda: hit_test(
                q,
                settings,
                intent=nlu.intent if nlu else None,
                confidence=(nlu.confidence or 0.0) if nlu else 0.0,
                services=services,
            )
        )
    except QueryError as refused:
        raise error(status.HTTP_422_UNPROCESSABLE_CONTENT, "invalid_input", str(refused)) from None
    explanation = tested.explanation
    return HitTestView(
        query=explanation.query,
        normalized=explanation.normalized,
        corrected=explanation.corrected,
        corrections=list(explanation.corrections),
        tokens=list(explanation.tokens),
        bm25_text=explanation.bm25_text,
        dense_text=explanation.dense_text,
        linked_guides=list(explanation.linked_guides),
        linked_names=list(tested.linked_names),
        asked_section=explanation.asked_section,
        asked_section_label=tested.asked_section_label,
        nlu=nlu,
        nlu_error=nlu_error,
        documents=[DocumentView.model_validate(document) for document in explanation.documents],
        decision=DecisionView.model_validate(tested.decision),
        checks=[CheckView.model_validate(check) for check in tested.checks],
        reply=tested.reply,
        buttons=list(tested.buttons),
    )


@router.post(
    "/knowledge/publish", summary="发布：按修改后的办事指南增量重建索引", status_code=status.HTTP_200_OK
)
async def publish_knowledge(
    staff: KnowledgeDep, services: ServicesDep, settings: SettingsDep
) -> PublishedView:
    published = await run_in_threadpool(publish, services, settings, actor=staff.member.login)
    return PublishedView.model_validate(published)


async def _parse(request: Request, text: str) -> tuple[NluParse | None, str | None]:
    """Rasa's reading of the words, through the assist console's client, when Rasa answers."""
    rasa: RasaClient | None = getattr(request.app.state, "assist_rasa", None)
    if rasa is None or not text.strip():
        return None, None
    try:
        return await rasa.parse(text, timeout=PARSE_SECONDS), None
    except RasaUnavailable as unavailable:
        log.info("hit test without NLU: %s", unavailable)
        return None, NLU_DOWN
