"""POST /api/chat: one turn for the web widget and other JSON clients."""

from __future__ import annotations

from fastapi import APIRouter

from channels.dependencies import TurnsDep
from channels.ip_limits import limited
from channels.messages import ChatRequest, ChatResponse
from channels.routes.services import ERRORS, ChineseErrorsRoute, check_own_conversation

router = APIRouter(tags=["对话"], route_class=ChineseErrorsRoute, responses=ERRORS)


@router.post("/api/chat", summary="发送一条消息，返回助手的回复", dependencies=[limited("chat")])
async def chat(body: ChatRequest, turns: TurnsDep) -> ChatResponse:
    check_own_conversation(body.sender_id, body.channel)
    return await turns.handle(body.sender_id, body.text, body.channel, body.metadata)
