"""The handoff desk: waiting conversations, claim, reply to the resident, close — the one handoff
API staff have, for role 坐席 (agent).

Mounted under /api/staff/desk. The agent is always the signed-in account (its login name), never
a name in the request. Claim, reply and close are the services' own operations (audited there, and
only the agent who claimed a conversation may reply or close it); these routes add what only the
gateway can do: deliver the agent's words on the resident's channel.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from channels.assist.delivery import Route, deliver
from channels.routes.services import ERRORS, ChineseErrorsRoute, ServicesDep
from channels.staff_auth import AgentDep
from services.facade import Services
from services.handoff_desk import HandoffView, ReplyView, TranscriptMessage
from services.log_privacy import pseudonym
from services.models import HandoffStatus

router = APIRouter(prefix="/desk", tags=["坐席辅助"], route_class=ChineseErrorsRoute, responses=ERRORS)

FAREWELL = (
    "本次人工服务已结束，感谢您的耐心。如还有问题，可以继续向贵博士提问，或拨打政务服务热线 {hotline}。"
)


class ReplyRequest(BaseModel):
    text: str


class CloseRequest(BaseModel):
    farewell: bool = True


class DeskHandoff(BaseModel):
    """A handoff as the desk shows it. The resident appears by pseudonym: a web sender id opens that
    resident's inbox and an openid is theirs alone, so neither belongs on an agent's screen."""

    ticket: str
    resident: str = Field(description="群众的匿名代号（与日志中的相同）")
    channel: str
    reason: str | None
    status: HandoffStatus
    agent: str | None
    transcript: list[TranscriptMessage]
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None


class DeskReply(BaseModel):
    id: int
    ticket: str
    agent: str
    text: str
    created_at: dt.datetime


class DeskView(BaseModel):
    waiting: list[DeskHandoff]
    mine: list[DeskHandoff]


class ReplyResult(BaseModel):
    reply: DeskReply
    delivered_by: Route


def _shown(request: Request, view: HandoffView) -> DeskHandoff:
    secret = request.app.state.settings.services.secret_key
    fields = view.model_dump(exclude={"sender_id"})
    return DeskHandoff(resident=pseudonym(view.sender_id, secret=secret), **fields)


def _deliver(request: Request, sender_id: str, text: str) -> Route:
    settings = request.app.state.settings
    wechat = getattr(request.app.state, "wechat", None)
    return deliver(wechat, sender_id, text, settings.wechat.reply_max_bytes)


async def _reply(request: Request, services: Services, ticket: str, agent: str, text: str) -> ReplyResult:
    stored: ReplyView = await run_in_threadpool(
        lambda: services.reply_to_handoff(ticket, agent=agent, text=text)
    )
    return ReplyResult(
        reply=DeskReply.model_validate(stored.model_dump(exclude={"sender_id"})),
        delivered_by=_deliver(request, stored.sender_id, stored.text),
    )


@router.get("/handoffs", summary="等待接入的会话和我已接入的会话")
async def desk(request: Request, staff: AgentDep, services: ServicesDep) -> DeskView:
    waiting = await run_in_threadpool(services.waiting_handoffs)
    mine = await run_in_threadpool(services.agent_handoffs, staff.member.login)
    return DeskView(
        waiting=[_shown(request, view) for view in waiting], mine=[_shown(request, view) for view in mine]
    )


@router.get("/handoffs/{ticket}", summary="会话详情与对话记录")
async def handoff(ticket: str, request: Request, _staff: AgentDep, services: ServicesDep) -> DeskHandoff:
    return _shown(request, await run_in_threadpool(services.handoff, ticket))


@router.post("/handoffs/{ticket}/claim", summary="接入会话")
async def claim(ticket: str, request: Request, staff: AgentDep, services: ServicesDep) -> DeskHandoff:
    view = await run_in_threadpool(lambda: services.claim_handoff(ticket, agent=staff.member.login))
    return _shown(request, view)


@router.post("/handoffs/{ticket}/reply", summary="回复群众（微信客服消息或网页收件箱）")
async def reply(
    ticket: str, body: ReplyRequest, request: Request, staff: AgentDep, services: ServicesDep
) -> ReplyResult:
    return await _reply(request, services, ticket, staff.member.login, body.text)


@router.post("/handoffs/{ticket}/close", summary="结束会话（默认先告知群众）")
async def close(
    ticket: str,
    request: Request,
    staff: AgentDep,
    services: ServicesDep,
    body: Annotated[CloseRequest | None, Body()] = None,
) -> DeskHandoff:
    agent = staff.member.login
    current = await run_in_threadpool(services.handoff, ticket)
    if (
        (body or CloseRequest()).farewell
        and current.status is HandoffStatus.claimed
        and current.agent == agent
    ):
        farewell = FAREWELL.format(hotline=request.app.state.settings.gateway.hotline)
        await _reply(request, services, ticket, agent, farewell)
    closed = await run_in_threadpool(lambda: services.close_handoff(ticket, agent=agent))
    return _shown(request, closed)
