"""One WeChat message → at most one answer, within WeChat's 5-second window or after it.

WeChat waits 5 s for a passive reply and then retries the same message, up to three times.
Every message is claimed once in the store (``SET NX``, shared across gateways with Redis):

* the claimer runs the turn; if it finishes before the deadline as a single part, that part is
  the passive reply and the store keeps it as ``done``; otherwise the claimer answers "success"
  (WeChat then stops retrying), marks the message ``deferred`` and the answer goes out through
  the customer-service API;
* a retry that finds the claim waits for it to settle, then repeats the passive reply
  (WeChat dropped the first one) or answers "success" when the answer is deferred.

An answer in several parts goes out whole through the customer-service API, part after part,
with "success" as the passive reply. Replying passively with the first part and sending the rest
through the API cannot guarantee the order the resident sees: the passive reply still travels
through WeChat's callback machinery after our HTTP response (or is lost and replayed on a retry)
while the API sends take another path, and residents saw the tail above the head. Sending the tail
only after our response completed (a Starlette BackgroundTask) narrows the race without closing
it: the response completes when WeChat has our bytes, not when the phone shows them. What we can
rely on is one path: each part sent only after WeChat accepted the one before (channels.wechat.
delivery queues them per resident). For the same reason a single-part answer is not passive either
while earlier sends to that resident are still queued in this process. The cost: long answers
depend on the customer-service API (which the deferred answers needed already) and arrive about
one API round trip later.

A bare number is read against the options shown last (channels.wechat.options): it picks one, pages
on ("0"), or gets the list again; it never reaches the dialogue as a number by accident. The
welcome a new follower gets offers “猜你想问” the same way, so "1" then asks the first question.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from channels.messages import Button, ChatResponse
from channels.wechat.delivery import Delivery
from channels.wechat.halls import HallDirectory
from channels.wechat.inbound import SUGGESTIONS_LEAD, Answer, Ask, Ignore, Welcome, classify
from channels.wechat.options import Choose, Offer, OfferBook, Show, interpret
from channels.wechat.render import pack, render, split_text
from channels.wechat.store import Store
from core.settings import WeChatSettings

log = logging.getLogger("zunyi.wechat")

CHANNEL = "wechat"
_PROCESSING = "processing"
_DEFERRED = "deferred"
_DONE = "done:"
_POLL_SECONDS = 0.05


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
        suggestions: Callable[[], list[str]] | None = None,
    ) -> None:
        """``suggestions`` gives the current “猜你想问” questions (blocking: run off the loop)."""
        self._settings = settings
        self._suggestions = suggestions
        self._store = store
        self._delivery = delivery
        self._halls = halls
        self._busy_text = busy_text
        self._offers = OfferBook(store, settings.options_ttl_seconds)

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
        if len(parts) == 1 and not self._delivery.busy(openid):
            await self._store.put(key, _DONE + parts[0], ttl)
            return parts[0]
        await self._store.put(key, _DEFERRED, ttl)
        if parts:
            self._delivery.send_later(openid, parts)
        return None

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
        openid = str(message.source)
        try:
            action = classify(message, self._halls)
            if isinstance(action, Ignore):
                return []
            if isinstance(action, Answer):
                return split_text(action.text, limit)
            if isinstance(action, Welcome):
                return await self._welcome(openid, action.text)
            return await self._ask(openid, action, str(message.type), turns)
        except Exception:
            log.exception("wechat turn failed")
            return split_text(self._busy_text, limit)

    async def _welcome(self, openid: str, text: str) -> list[str]:
        limit = self._settings.reply_max_bytes
        questions: list[str] = []
        if self._suggestions is not None:
            # Within the passive reply's window: a cold cache (first welcome after a start) is
            # filled meanwhile for the next follower, and this one gets the welcome alone.
            wait = self._settings.reply_deadline_seconds / 2
            try:
                questions = await asyncio.wait_for(asyncio.shield(run_in_threadpool(self._suggestions)), wait)
            except TimeoutError:
                log.info("suggested questions not ready for the welcome")
            except Exception:  # the welcome matters more than the suggestions
                log.exception("suggested questions unavailable for the welcome")
        if not questions:
            return split_text(text, limit)
        offer = Offer(options=[Button(title=q, payload=q) for q in questions])
        await self._offers.keep(openid, offer)
        return pack(text, f"{SUGGESTIONS_LEAD}\n{offer.block()}", limit)

    async def _ask(self, openid: str, action: Ask, kind: str, turns: Turns) -> list[str]:
        limit = self._settings.reply_max_bytes
        text = action.text
        outcome = interpret(text, await self._offers.get(openid))
        if isinstance(outcome, Show):
            if outcome.offer is not None:
                await self._offers.keep(openid, outcome.offer)
            return pack("", outcome.text, limit)
        if isinstance(outcome, Choose):
            text = outcome.payload
        response = await turns.handle(f"{CHANNEL}:{openid}", text, CHANNEL, {"wechat_msg_type": kind})
        rendered = render(response, limit)
        await self._offers.keep(openid, rendered.offer)
        if not any(part.strip() for part in rendered.parts):
            return split_text(self._busy_text, limit)
        return rendered.parts


def dedupe_key(message: Any) -> str:
    """MsgId for messages; FromUserName + CreateTime for events, which carry no MsgId."""
    # Raw values: wechatpy's typed fields raise on malformed numbers, and a key needs none.
    data: dict[str, Any] = message._data
    msg_id = str(data.get("MsgId") or "").strip()
    if msg_id:
        return f"msg:{message.source}:{msg_id}"
    return f"event:{message.source}:{data.get('CreateTime')}:{data.get('Event')}"
