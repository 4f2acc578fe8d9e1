"""What the gateway accepts and returns on every channel (the /api/chat contract)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    sender_id: str = Field(description="Channel-scoped sender, e.g. web:3f2c… or wechat:oABC…")
    text: str
    channel: str = "web"
    metadata: dict[str, Any] = Field(default_factory=dict)


class Button(BaseModel):
    title: str
    payload: str


class Source(BaseModel):
    """Where an answer came from: the guide or policy item, with its date and sample notice."""

    title: str
    section: str | None = None
    department: str | None = None
    updated: str | None = None
    notice: str | None = None
    url: str | None = None


class OutgoingMessage(BaseModel):
    text: str | None = None
    buttons: list[Button] = Field(default_factory=list)
    payload: dict[str, Any] | None = Field(default=None, description="Structured card: guide, materials …")
    sources: list[Source] = Field(default_factory=list)


class ChatResponse(BaseModel):
    messages: list[OutgoingMessage]
    intent: str | None = None
    confidence: float | None = None
    turn_id: str | None = Field(
        default=None,
        description="This turn's id (Rasa's message id): a rating or complaint about the answer carries it",
    )
