"""POST /api/chat: one turn for the web widget and other JSON clients."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from channels.dependencies import TurnsDep
from channels.messages import ChatRequest, ChatResponse
from services.errors import InvalidInput
from services.text import check_channel, check_sender

router = APIRouter(tags=["对话"])

# Channels whose senders arrive through their own endpoint and must not be impersonated here.
_OWN_ENDPOINT = {"wechat"}


@router.post("/api/chat", summary="发送一条消息，返回助手的回复")
async def chat(body: ChatRequest, turns: TurnsDep) -> ChatResponse:
    try:
        check_sender(body.sender_id)
        check_channel(body.channel)
    except InvalidInput as error:
        raise HTTPException(status_code=422, detail=error.message) from error
    if body.channel in _OWN_ENDPOINT or not body.sender_id.startswith(f"{body.channel}:"):
        raise HTTPException(
            status_code=422, detail=f"会话标识应以“{body.channel}:”开头，且不能代替其他渠道发送消息。"
        )
    return await turns.handle(body.sender_id, body.text, body.channel, body.metadata)
