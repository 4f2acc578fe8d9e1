"""One WeChat message → at most one answer, within WeChat's 5-second window or after it.

WeChat waits 5 s for a passive reply and then retries the same message, up to three times.
Every message is claimed once in the store (``SET NX``, shared across gateways with Redis):

* the claimer runs the turn; if it finishes before the deadline the first part is the passive
  reply and the store keeps it as ``done``; otherwise the claimer answers "success" (WeChat then
  stops retrying), marks the message ``deferred`` and the answer goes out through the
  customer-service API when ready;
* a retry that finds the claim waits for it to settle, then repeats the passive reply
  (WeChat dropped the first one) or answers "success" when the answer is deferred.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import unicodedata
from typing import Any, Protocol

from channels.messages import Button, ChatResponse
from channels.wechat.delivery import Delivery
from channels.wechat.halls import HallDirectory
from channels.wechat.inbound import Answer, Ask, Ignore, classify
from channels.wechat.render import render, split_text
from channels.wechat.store import Store
from core.settings import WeChatSettings

log = logging.getLogger("zunyi.wechat")

CHANNEL = "wechat"
_PROCESSING = "processing"
_DEFERRED = "deferred"
_DONE = "done:"
_POLL_SECONDS = 0.05
_OPTION_NUMBER = re.compile(r"^\s*([0-9０-９]{1,2})\s*[.。、]?\s*$")


class Turns(Protocol):
    """channels.turns.TurnHandler, or anything answering the same way."""

    async def handle(
        self, sender_id: str, text: str, channel: str, metadata: dict[str, Any]
    ) -> ChatResponse: ...


class WeChatDispatcher:
    def __init__(
        self,
        settings: WeChatSettings,
        store: Store,
        delivery: Delivery,
        halls: HallDirectory,
        busy_text: str,
    ) -> None:
        self._settings = settings
        self._store = store
        self._delivery = delivery
        self._halls = halls
        self._busy_text = busy_text

    async def answer(self, message: Any, turns: Turns, received_at: float) -> str | None:
        """The passive reply text, or None for "success" (nothing now, maybe a send later).

        ``received_at`` is ``time.monotonic()`` when the request arrived.
        """
        key = dedupe_key(message)
        deadline = received_at + self._settings.reply_deadline_seconds
        ttl = self._settings.dedupe_ttl_seconds
        if not await self._store.claim(key, _PROCESSING, ttl):
            return await self._settled(key, deadline)
        openid = str(message.source)
        work = asyncio.create_task(self._produce(message, turns))
        try:
            remaining = max(0.0, deadline - time.monotonic())
            parts = await asyncio.wait_for(asyncio.shield(work), timeout=remaining)
        except TimeoutError:
            await self._store.put(key, _DEFERRED, ttl)
            self._delivery.send_when_ready(work, openid)
            return None
        if not parts:
            await self._store.put(key, _DEFERRED, ttl)
            return None
        await self._store.put(key, _DONE + parts[0], ttl)
        if parts[1:]:
            self._delivery.send_later(openid, parts[1:])
        return parts[0]

    async def _settled(self, key: str, deadline: float) -> str | None:
        """A retry: wait for the first delivery of this message to decide, within our own deadline."""
        while True:
            state = await self._store.get(key)
            if state is not None and state.startswith(_DONE):
                return state[len(_DONE) :]
            if state != _PROCESSING or time.monotonic() + _POLL_SECONDS >= deadline:
                return None
            await asyncio.sleep(_POLL_SECONDS)

    async def _produce(self, message: Any, turns: Turns) -> list[str]:
        """The reply parts; never raises, so that an answer (or an apology) always exists."""
        limit = self._settings.reply_max_bytes
        try:
            action = classify(message, self._halls)
            if isinstance(action, Ignore):
                return []
            if isinstance(action, Answer):
                return split_text(action.text, limit)
            return await self._ask(str(message.source), action, str(message.type), turns)
        except Exception:
            log.exception("wechat turn failed")
            return split_text(self._busy_text, limit)

    async def _ask(self, openid: str, action: Ask, kind: str, turns: Turns) -> list[str]:
        text = await self._chosen_option(openid, action.text) or action.text
        response = await turns.handle(f"{CHANNEL}:{openid}", text, CHANNEL, {"wechat_msg_type": kind})
        rendered = render(response, self._settings.reply_max_bytes)
        await self._remember_options(openid, rendered.options)
        if not any(part.strip() for part in rendered.parts):
            return split_text(self._busy_text, self._settings.reply_max_bytes)
        return rendered.parts

    async def _chosen_option(self, openid: str, text: str) -> str | None:
        """The payload of option N when the resident answers just "N" to numbered options."""
        match = _OPTION_NUMBER.match(text)
        if not match:
            return None
        stored = await self._store.get(f"options:{openid}")
        if stored is None:
            return None
        payloads: list[str] = json.loads(stored)
        number = int("".join(str(unicodedata.digit(c)) for c in match.group(1)))
        return payloads[number - 1] if 1 <= number <= len(payloads) else None

    async def _remember_options(self, openid: str, options: list[Button]) -> None:
        key = f"options:{openid}"
        if options:
            payloads = json.dumps([b.payload for b in options], ensure_ascii=False)
            await self._store.put(key, payloads, self._settings.options_ttl_seconds)
        else:
            # Old options must not answer a "1" meant for something else.
            await self._store.delete(key)


def dedupe_key(message: Any) -> str:
    """MsgId for messages; FromUserName + CreateTime for events, which carry no MsgId."""
    # Raw values: wechatpy's typed fields raise on malformed numbers, and a key needs none.
    data: dict[str, Any] = message._data
    msg_id = str(data.get("MsgId") or "").strip()
    if msg_id:
        return f"msg:{message.source}:{msg_id}"
    return f"event:{message.source}:{data.get('CreateTime')}:{data.get('Event')}"
