"""Answers that are not a passive reply go out through the customer-service message API.

Sends run in the background, each retried with doubling pauses, and one resident's sends form one
queue in this process: part 2 goes out only once WeChat accepted part 1, and a later answer (or an
agent's message) waits for an earlier one, so the resident reads them in the order they were made.
A part that still fails is logged and recorded, and so are the parts queued behind it, unsent (sent
alone they would arrive above the part they follow). The failure log (newest 1000), which ``python
-m channels.wechat resend`` retries, is Redis's ``failed-sends`` list when Redis is configured, so
every gateway's failures are in one place, otherwise a JSON-lines file that outlives the process.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import re
import time
from collections.abc import Awaitable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import requests
from pydantic import BaseModel
from wechatpy.exceptions import WeChatClientException

from channels.wechat.client import TOKEN_ERRORS, GatewayWeChatClient
from channels.wechat.store import Store
from core.settings import WeChatSettings
from services.log_privacy import pseudonym

log = logging.getLogger("zunyi.wechat")

FAILURES_KEY = "failed-sends"
_KEEP_FAILURES = 1000


# requests names the URL it failed on, and WeChat's carry the AppSecret or the access token.
_CREDENTIAL_IN_URL = re.compile(r"\b(secret|access_token)=[^&\s'\"()]+")


def without_credentials(error: str) -> str:
    return _CREDENTIAL_IN_URL.sub(r"\1=***", error)


class DeliveryFailure(BaseModel):
    openid: str
    text: str
    error: str
    at: float


class FailureLog(Protocol):
    async def record(self, failure: DeliveryFailure) -> None: ...

    async def entries(self) -> list[DeliveryFailure]: ...

    async def take(self) -> list[DeliveryFailure]:
        """Remove and return every recorded failure, atomically (failures recorded meanwhile stay)."""


class StoreFailureLog:
    """The store's ``failed-sends`` list: shared by every gateway when the store is Redis."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def record(self, failure: DeliveryFailure) -> None:
        await self._store.append(FAILURES_KEY, failure.model_dump_json(), _KEEP_FAILURES)

    async def entries(self) -> list[DeliveryFailure]:
        return [DeliveryFailure.model_validate_json(v) for v in await self._store.entries(FAILURES_KEY)]

    async def take(self) -> list[DeliveryFailure]:
        return [DeliveryFailure.model_validate_json(v) for v in await self._store.take(FAILURES_KEY)]


class FileFailureLog:
    """One JSON line per failure; an exclusive ``flock`` makes appends and takes atomic across processes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def record(self, failure: DeliveryFailure) -> None:
        await asyncio.to_thread(self._append, failure.model_dump_json())

    async def entries(self) -> list[DeliveryFailure]:
        return await asyncio.to_thread(self._read, False)

    async def take(self) -> list[DeliveryFailure]:
        return await asyncio.to_thread(self._read, True)

    @contextmanager
    def _locked(self) -> Iterator[Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            file.seek(0)
            yield file

    def _append(self, line: str) -> None:
        with self._locked() as file:
            lines = [*file.read().splitlines()[-(_KEEP_FAILURES - 1) :], line]
            file.truncate(0)
            file.write("".join(f"{entry}\n" for entry in lines))

    def _read(self, clear: bool) -> list[DeliveryFailure]:
        if not self.path.exists():
            return []
        with self._locked() as file:
            lines = [line for line in file.read().splitlines() if line.strip()]
            if clear:
                file.truncate(0)
        return [DeliveryFailure.model_validate_json(line) for line in lines]


def failure_log(settings: WeChatSettings, store: Store) -> FailureLog:
    return StoreFailureLog(store) if settings.redis_url else FileFailureLog(settings.failed_sends_file)


class ResendReport(BaseModel):
    sent: int
    failed: int


async def resend_failures(client: GatewayWeChatClient, log: FailureLog) -> ResendReport:
    """Try every recorded failure once more, in order; those failing again are recorded again, and
    so are a resident's later ones, untried, so that they never overtake the part they follow."""
    sent = failed = 0
    stuck: dict[str, str] = {}  # openid → why its first part failed again
    for failure in await log.take():
        error = stuck.get(failure.openid)
        if error is None:
            try:
                await asyncio.to_thread(send_text, client, failure.openid, failure.text)
            except (WeChatClientException, requests.RequestException) as refused:
                error = stuck[failure.openid] = without_credentials(str(refused))
        if error is None:
            sent += 1
        else:
            failed += 1
            await log.record(failure.model_copy(update={"error": error, "at": time.time()}))
    return ResendReport(sent=sent, failed=failed)


def send_text(client: GatewayWeChatClient, openid: str, text: str) -> None:
    """One customer-service text; a token WeChat calls invalid is dropped so the next try refetches."""
    token = client.access_token
    try:
        client.message.send_text(openid, text)
    except WeChatClientException as error:
        if error.errcode in TOKEN_ERRORS:
            client.invalidate(token)
        raise


class Delivery:
    def __init__(self, client: GatewayWeChatClient, failures: FailureLog, settings: WeChatSettings) -> None:
        self._client = client
        self._failures = failures
        self._attempts = settings.send_attempts
        self._backoff = settings.send_backoff_seconds
        self._pending: set[asyncio.Task[None]] = set()
        self._queues: dict[str, asyncio.Task[None]] = {}  # openid → its latest send job

    def send_later(self, openid: str, parts: list[str]) -> None:
        """Queue ``parts`` for ``openid``, after whatever is queued for them already."""
        ready: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        ready.set_result(parts)
        self._enqueue(openid, ready)

    def send_when_ready(self, answer: asyncio.Task[list[str]], openid: str) -> None:
        """Queue ``answer``'s parts now, to be sent once the still-running turn finishes."""
        self._enqueue(openid, answer)

    def busy(self, openid: str) -> bool:
        """Sends to ``openid`` are queued or under way here: a passive reply now would overtake them."""
        return openid in self._queues

    async def drain(self, timeout: float) -> None:
        """Let pending sends finish (shutdown, tests); whatever is left is cancelled."""
        if self._pending:
            _, late = await asyncio.wait(set(self._pending), timeout=timeout)
            for task in late:
                task.cancel()

    async def failures(self) -> list[DeliveryFailure]:
        return await self._failures.entries()

    def _enqueue(self, openid: str, parts: Awaitable[list[str]]) -> None:
        before = self._queues.get(openid)

        async def in_turn() -> None:
            if before is not None:
                await asyncio.wait({before})  # never raises, even if that job was cancelled
            await self._send_all(openid, await parts)

        task = self._spawn(in_turn())
        self._queues[openid] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._queues.get(openid) is done:
                del self._queues[openid]

        task.add_done_callback(forget)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        # The loop keeps only weak references to tasks; hold them until they finish.
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def _send_all(self, openid: str, parts: list[str]) -> None:
        parts = [part for part in parts if part]
        for n, part in enumerate(parts):
            error = await self._send(openid, part)
            if error is not None:
                await self._give_up(openid, parts[n:], error)
                return

    async def _send(self, openid: str, text: str) -> str | None:
        """None once WeChat accepted ``text``; otherwise why the last try failed."""
        error = ""
        for attempt in range(self._attempts):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                await asyncio.to_thread(send_text, self._client, openid, text)
                return None
            except (WeChatClientException, requests.RequestException) as failed:
                error = without_credentials(str(failed))
                # The turn log's pseudonym of the same resident, never the openid itself.
                who = pseudonym(f"wechat:{openid}")
                log.warning("wechat send to %s failed (try %d): %s", who, attempt + 1, error)
        return error

    async def _give_up(self, openid: str, parts: list[str], error: str) -> None:
        log.error(
            json.dumps(
                {
                    "event": "wechat_send_failed",
                    "resident": pseudonym(f"wechat:{openid}"),
                    "error": error,
                    "parts": len(parts),
                }
            )
        )
        for n, text in enumerate(parts):
            why = error if n == 0 else f"未发送：排在发送失败的上一段之后（{error}）"
            await self._failures.record(DeliveryFailure(openid=openid, text=text, error=why, at=time.time()))
