"""GET /api/chat/inbox: the web widget fetches what a human agent wrote to it during a handoff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from channels.ip_limits import limited
from channels.routes.services import ERRORS, ChineseErrorsRoute, ServicesDep
from services.handoff_desk import InboxView

router = APIRouter(tags=["对话"], route_class=ChineseErrorsRoute, responses=ERRORS)


@router.get("/api/chat/inbox", summary="人工客服发给网页会话的新消息", dependencies=[limited("inbox")])
async def inbox(
    services: ServicesDep,
    sender_id: Annotated[str, Query(max_length=128, description="网页会话标识 web:…")],
    after: Annotated[int, Query(ge=0, description="已收到的最后一条消息的 id")] = 0,
) -> InboxView:
    # Other channels get agents' replies their own way; this endpoint never reveals theirs.
    if not sender_id.startswith("web:"):
        raise HTTPException(status_code=422, detail="只能查询网页会话（web:）的消息。")
    return await run_in_threadpool(lambda: services.handoff_inbox(sender_id, after=after))
