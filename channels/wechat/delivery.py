"""Answers that miss the passive-reply window go out through the customer-service message API.

Sends run in the background, in order, each retried with doubling pauses; a part that still fails
is logged and kept in the store's ``failed-sends`` list (newest 1000) for an operator to resend.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from typing import Any

import requests
from pydantic import BaseModel
from wechatpy.exceptions import WeChatClientException

from channels.wechat.client import TOKEN_ERRORS, GatewayWeChatClient
from channels.wechat.store import Store
from core.settings import WeChatSettings

log = logging.getLogger("zunyi.wechat")

FAILURES_KEY = "failed-sends"
_KEEP_FAILURES = 1000


class DeliveryFailure(BaseModel):
    openid: str
    text: str
    error: str
    at: float


class Delivery:
    def __init__(self, client: GatewayWeChatClient, store: Store, settings: WeChatSettings) -> None:
        self._client = client
        self._store = store
        self._attempts = settings.send_attempts
        self._backoff = settings.send_backoff_seconds
        self._pending: set[asyncio.Task[None]] = set()

    def send_later(self, openid: str, parts: list[str]) -> None:
        self._spawn(self._send_all(openid, parts))

    def send_when_ready(self, answer: asyncio.Task[list[str]], openid: str) -> None:
        """Send ``answer``'s parts once the still-running turn finishes."""

        async def wait_then_send() -> None:
            await self._send_all(openid, await answer)

        self._spawn(wait_then_send())

    async def drain(self, timeout: float) -> None:
        """Let pending sends finish (shutdown, tests); whatever is left is cancelled."""
        if self._pending:
            _, late = await asyncio.wait(set(self._pending), timeout=timeout)
            for task in late:
                task.cancel()

    async def failures(self) -> list[DeliveryFailure]:
        return [DeliveryFailure.model_validate_json(v) for v in await self._store.entries(FAILURES_KEY)]

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        # The loop keeps only weak references to tasks; hold them until they finish.
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send_all(self, openid: str, parts: list[str]) -> None:
        for part in parts:
            if part:
                await self._send(openid, part)

    async def _send(self, openid: str, text: str) -> None:
        error: Exception | None = None
        for attempt in range(self._attempts):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                await asyncio.to_thread(self._send_once, openid, text)
                return
            except (WeChatClientException, requests.RequestException) as failed:
                error = failed
                log.warning("wechat send to %s failed (try %d): %s", openid, attempt + 1, failed)
        failure = DeliveryFailure(openid=openid, text=text, error=str(error), at=time.time())
        log.error(json.dumps({"event": "wechat_send_failed", "openid": openid, "error": failure.error}))
        await self._store.append(FAILURES_KEY, failure.model_dump_json(), _KEEP_FAILURES)

    def _send_once(self, openid: str, text: str) -> None:
        token = self._client.access_token
        try:
            self._client.message.send_text(openid, text)
        except WeChatClientException as error:
            if error.errcode in TOKEN_ERRORS:
                self._client.invalidate(token)
            raise
