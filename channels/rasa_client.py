"""The gateway's only way to Rasa: the project's input channel and /model/parse, with timeouts."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, Field

from channels.messages import Button, OutgoingMessage, Source


class RasaUnavailable(RuntimeError):
    """Rasa (or the action server behind it) did not answer in time or answered with an error."""


class NluEntity(BaseModel):
    entity: str
    value: str
    start: int | None = None
    end: int | None = None


class NluParse(BaseModel):
    """What Rasa's NLU makes of one text, without touching any conversation."""

    intent: str | None = None
    confidence: float | None = None
    entities: list[NluEntity] = Field(default_factory=list)


class RasaTurn(BaseModel):
    """The replies to one message and what Rasa made of it."""

    messages: list[OutgoingMessage]
    intent: str | None = None
    confidence: float | None = None
    service: str | None = None
    fallback: bool = False
    turn_id: str | None = None


class RasaClient:
    def __init__(self, base_url: str, *, timeout: float, token: str | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self._params = {"token": token} if token else {}

    async def close(self) -> None:
        await self._client.aclose()

    async def _post(self, path: str, body: dict[str, Any], timeout: float | None = None) -> Any:
        try:
            response = await self._client.post(
                path,
                json=body,
                params=self._params,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"Rasa {path}: {type(error).__name__}") from error
        if not 200 <= response.status_code < 300:
            raise RasaUnavailable(f"Rasa {path}: HTTP {response.status_code}")
        return response.json()

    async def send(
        self, sender_id: str, text: str, metadata: dict[str, Any], *, turn_id: str | None = None
    ) -> RasaTurn:
        """One turn through the project's input channel (channels/rasa_connector.py); ``turn_id``
        becomes the user message's id in Rasa's events (the analytics turn id)."""
        body = {"sender": sender_id, "message": text, "metadata": metadata, "message_id": turn_id}
        reply = await self._post("/webhooks/gateway/webhook", body)
        return RasaTurn(
            messages=merge_custom_into_text([to_message(m) for m in reply.get("messages") or []]),
            intent=reply.get("intent"),
            confidence=reply.get("confidence"),
            service=reply.get("service"),
            fallback=bool(reply.get("fallback")),
            turn_id=turn_id,
        )

    async def parse(self, text: str, *, timeout: float | None = None) -> NluParse:
        """Intent and entities of ``text`` from /model/parse (the operators' console)."""
        result = await self._post("/model/parse", {"text": text}, timeout=timeout)
        intent = result.get("intent") or {}
        return NluParse(
            intent=intent.get("name"),
            confidence=intent.get("confidence"),
            entities=[
                NluEntity(
                    entity=str(e.get("entity")),
                    value=str(e.get("value")),
                    start=e.get("start"),
                    end=e.get("end"),
                )
                for e in result.get("entities") or []
                if e.get("entity")
            ],
        )

    async def alive(self) -> bool:
        try:
            response = await self._client.get("/status", params=self._params)
        except httpx.HTTPError:
            return False
        return 200 <= response.status_code < 300 and bool(response.json().get("model_file"))


def to_message(reply: dict[str, Any]) -> OutgoingMessage:
    """One Rasa REST reply → our message; custom payloads carry cards and their sources."""
    custom = dict(reply.get("custom") or {})
    sources = [Source(**source) for source in custom.pop("sources", [])]
    return OutgoingMessage(
        text=reply.get("text"),
        buttons=[Button(title=b["title"], payload=b["payload"]) for b in reply.get("buttons") or []],
        payload=custom or None,
        sources=sources,
    )


def merge_custom_into_text(messages: list[OutgoingMessage]) -> list[OutgoingMessage]:
    """Rasa sends an action's text and its card (custom JSON) as two replies; rejoin them so
    the channel shows one answer with its card and sources."""
    merged: list[OutgoingMessage] = []
    for message in messages:
        if message.text is None and not message.buttons and merged and merged[-1].payload is None:
            previous = merged[-1]
            merged[-1] = previous.model_copy(
                update={"payload": message.payload, "sources": previous.sources + message.sources}
            )
        else:
            merged.append(message)
    return merged
