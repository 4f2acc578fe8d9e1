"""The handoff desk: waiting conversations, claim, reply to the resident, close.

Mounted under /api/staff/desk behind the staff token. Claim and close are the services' own
operations (audited there); these routes add what only the gateway can do: deliver the agent's
words on the resident's channel.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from channels.assist.delivery import Route, deliver
from channels.routes.services import ERRORS, ChineseErrorsRoute, ServicesDep
from services.feedback import HandoffView
from services.handoff_desk import ReplyView
from services.models import HandoffStatus

router = APIRouter(prefix="/desk", tags=["坐席辅助"], route_class=ChineseErrorsRoute, responses=ERRORS)

FAREWELL = (
    "本次人工服务已结束，感谢您的耐心。如还有问题，可以继续向贵博士提问，或拨打政务服务热线 {hotline}。"
)

AgentQuery = Annotated[str, Query(min_length=1, max_length=60, description="工作人员姓名或工号")]


class AgentAction(BaseModel):
    agent: str


class ReplyRequest(BaseModel):
    agent: str
    text: str


class CloseRequest(BaseModel):
    agent: str
    farewell: bool = True


class DeskView(BaseModel):
    waiting: list[HandoffView]
    mine: list[HandoffView]


class ReplyResult(BaseModel):
    reply: ReplyView
    delivered_by: Route


def _deliver(request: Request, sender_id: str, text: str) -> Route:
    settings = request.app.state.settings
    wechat = getattr(request.app.state, "wechat", None)
    return deliver(wechat, sender_id, text, settings.wechat.reply_max_bytes)


@router.get("/handoffs", summary="等待接入的会话和我已接入的会话")
async def desk(services: ServicesDep, agent: AgentQuery) -> DeskView:
    waiting = await run_in_threadpool(services.waiting_handoffs)
    mine = await run_in_threadpool(services.agent_handoffs, agent)
    return DeskView(waiting=waiting, mine=mine)


@router.get("/handoffs/{ticket}", summary="会话详情与对话记录")
async def handoff(ticket: str, services: ServicesDep) -> HandoffView:
    return await run_in_threadpool(services.handoff, ticket)


@router.post("/handoffs/{ticket}/claim", summary="接入会话")
async def claim(ticket: str, body: AgentAction, services: ServicesDep) -> HandoffView:
    return await run_in_threadpool(lambda: services.claim_handoff(ticket, agent=body.agent))


@router.post("/handoffs/{ticket}/reply", summary="回复群众（微信客服消息或网页收件箱）")
async def reply(ticket: str, body: ReplyRequest, request: Request, services: ServicesDep) -> ReplyResult:
    stored = await run_in_threadpool(
        lambda: services.reply_to_handoff(ticket, agent=body.agent, text=body.text)
    )
    return ReplyResult(reply=stored, delivered_by=_deliver(request, stored.sender_id, stored.text))


@router.post("/handoffs/{ticket}/close", summary="结束会话（默认先告知群众）")
async def close(ticket: str, body: CloseRequest, request: Request, services: ServicesDep) -> HandoffView:
    current = await run_in_threadpool(services.handoff, ticket)
    if body.farewell and current.status is HandoffStatus.claimed and current.agent == body.agent:
        farewell = FAREWELL.format(hotline=request.app.state.settings.gateway.hotline)
        await reply(ticket, ReplyRequest(agent=body.agent, text=farewell), request, services)
    return await run_in_threadpool(lambda: services.close_handoff(ticket, agent=body.agent))
