"""Simulated residents for the fault and scale benchmarks: asyncio + httpx against POST /api/chat.

Each resident holds one conversation after another: guide questions with follow-ups (textbook
conversations of bench.dialogue, alternating with residents' own words from the held-out dev set of
bench.residents: situations, voice run-ons, dialect), and every fourth one a hall booking carried
through the form (hall → day → slot → name → ID → phone → confirm), checking at each step that
the assistant asks for the next thing. A busy reply is answered the way a resident would, by
sending the same message again; a reply that is neither the next step nor busy means the
conversation lost its place.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.dialogue import CONVERSATIONS
from bench.residents import load_questions

BUSY = "系统繁忙"
BOOKING_CODE = re.compile(r"预约码：([A-Z0-9]{8})")
RETRIES_ON_BUSY = 3
# A seat taken by another resident between the offer and the pick: the assistant offers the rest.
SLOT_TAKEN = "没有可约的空位"
SLOT_ATTEMPTS = 3
# Conversations without the status form (its proofs are rate-limited per application by design),
# interleaved with one-question conversations in residents' own words.
TEXTBOOK = [[t.text for t in c] for c in CONVERSATIONS if all(t.category != "status_form" for t in c)]
QUESTIONS = [
    conversation
    for pair in itertools.zip_longest(TEXTBOOK, [[q.text] for q in load_questions()])
    for conversation in pair
    if conversation
]
PHONE = "15885211234"
CONFIRM = '/affirm{"confirm_answer": "yes"}'
SLOT = re.compile(r"\d\d:\d\d-\d\d:\d\d")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_serial = itertools.count(1)


def id_number(serial: int) -> str:
    """A valid 18-digit 身份证号 (GB 11643 check digit), different for each serial below 1000."""
    body = f"52030219450301{serial % 1000:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    return body + check


@dataclass
class Turn:
    at: float  # monotonic time the turn was sent
    seconds: float
    outcome: str  # answered | busy | failed


@dataclass
class Tally:
    turns: list[Turn] = field(default_factory=list)
    lost_place: list[str] = field(default_factory=list)  # what the assistant said instead of the next step
    interrupted: list[str] = field(default_factory=list)  # the same, right after a busy reply
    codes: list[str] = field(default_factory=list)  # booking codes residents were given
    bookings_started: int = 0
    bookings_made: int = 0

    def between(self, start: float, end: float) -> list[Turn]:
        return [t for t in self.turns if start <= t.at < end]


def texts(reply: dict[str, Any]) -> str:
    return "\n".join(m.get("text") or "" for m in reply.get("messages", []))


def first_payload(reply: dict[str, Any]) -> str | None:
    buttons = [b for m in reply.get("messages", []) for b in m.get("buttons") or []]
    return buttons[0]["payload"] if buttons else None


class Resident:
    def __init__(
        self, client: httpx.AsyncClient, tally: Tally, think: Callable[[], float], rng: random.Random
    ) -> None:
        self._client, self._tally, self._think, self._rng = client, tally, think, rng
        self._repeated = False  # this conversation had to repeat a message after a busy reply

    async def say(self, sender: str, text: str) -> dict[str, Any] | None:
        """One turn; None when it failed outright (no HTTP answer, or an error status)."""
        started, at = time.perf_counter(), time.monotonic()
        try:
            response = await self._client.post(
                "/api/chat", json={"sender_id": sender, "text": text, "channel": "web"}
            )
            response.raise_for_status()
            reply: dict[str, Any] | None = response.json()
        except (httpx.HTTPError, ValueError):
            reply = None
        seconds = time.perf_counter() - started
        outcome = "failed" if reply is None else "busy" if BUSY in texts(reply) else "answered"
        self._tally.turns.append(Turn(at, seconds, outcome))
        await asyncio.sleep(self._think())
        return reply

    async def ask(self, sender: str, text: str) -> dict[str, Any] | None:
        """Say it, and again (as a resident would) while the answer is the busy apology."""
        for attempt in range(RETRIES_ON_BUSY):
            self._repeated = self._repeated or attempt > 0
            reply = await self.say(sender, text)
            if reply is not None and BUSY not in texts(reply):
                return reply
        return None

    def _off_track(self, text: str, reply: dict[str, Any]) -> None:
        """The assistant did not ask for the next step. After a busy reply in this conversation that
        is the fault's doing (the message may have been handled before its answer was lost, and the resident
        said it twice); after a normal answer the conversation lost its place."""
        line = f"{text[:20]} → {texts(reply)[:80]}"
        (self._tally.interrupted if self._repeated else self._tally.lost_place).append(line)

    async def questions(self, conversation: list[str]) -> None:
        sender = f"web:sim-{uuid.uuid4().hex[:12]}"
        for text in conversation:
            await self.ask(sender, text)

    async def step(self, sender: str, text: str, expected: str) -> dict[str, Any] | None:
        """Say ``text``; the reply, or None when the resident gave up (busy) or the assistant did not
        ask for ``expected`` next (recorded as a lost place)."""
        reply = await self.ask(sender, text)
        if reply is not None and expected not in texts(reply):
            self._off_track(text, reply)
            return None
        return reply

    async def booking(self) -> None:
        sender = f"web:sim-book-{uuid.uuid4().hex[:12]}"
        self._tally.bookings_started += 1
        self._repeated = False
        reply = await self.step(sender, "我想预约办理低保", "大厅")
        for expected in ("哪天", "时段可约"):
            if reply is None:
                return
            reply = await self.step(sender, first_payload(reply) or "", expected)
        if reply is not None:
            reply = await self._take_a_slot(sender, reply)
        for text, expected in (
            ("王德明", "身份证号"),
            (id_number(next(_serial)), "手机号"),
            (PHONE, "请核对"),
        ):
            if reply is None:
                return
            reply = await self.step(sender, text, expected)
        for _ in range(RETRIES_ON_BUSY):
            if reply is None:
                return
            reply = await self.ask(sender, CONFIRM)
            said = texts(reply or {})
            if match := BOOKING_CODE.search(said):
                self._tally.codes.append(match.group(1))
                self._tally.bookings_made += 1
                return
            if reply is not None and "约满" in said:  # taken meanwhile: another time, confirm again
                reply = await self.step(sender, self._any_slot(reply) or "", "请核对")
            elif reply is not None:
                self._off_track("确认", reply)
                return

    async def _take_a_slot(self, sender: str, reply: dict[str, Any]) -> dict[str, Any] | None:
        """Pick an offered time; when another resident took its last seat meanwhile, the assistant
        offers the times still free (没有可约的空位) and the resident picks again, as at 约满."""
        for _ in range(SLOT_ATTEMPTS):
            text = self._any_slot(reply) or ""
            answer = await self.ask(sender, text)
            if answer is None:
                return None
            if "姓名" in texts(answer):
                return answer
            if SLOT_TAKEN not in texts(answer):
                self._off_track(text, answer)
                return None
            reply = answer
        return None

    def _any_slot(self, reply: dict[str, Any]) -> str | None:
        """One of the offered time slots, at random: residents do not all take the first."""
        slots = [
            b["payload"]
            for m in reply.get("messages", [])
            for b in m.get("buttons") or []
            if SLOT.match(b.get("title") or "")
        ]
        return self._rng.choice(slots) if slots else first_payload(reply)

    async def talk_until(
        self, done: Callable[[], bool], number: int, book_every: int, start_after: float = 0.0
    ) -> None:
        await asyncio.sleep(start_after)
        for index in itertools.count(number):
            if done():
                return
            if book_every and index % book_every == book_every - 1:
                await self.booking()
            else:
                await self.questions(QUESTIONS[index % len(QUESTIONS)])


async def crowd(
    url: str,
    residents: int,
    seconds: float,
    think: tuple[float, float],
    book_every: int,
    tally: Tally,
    until: threading.Event | None = None,
) -> None:
    """``residents`` residents talking for ``seconds``, or until ``until`` is set when given (a
    conversation under way is finished first)."""
    stop_at = time.monotonic() + seconds

    def done() -> bool:
        return until.is_set() if until is not None else time.monotonic() >= stop_at

    limits = httpx.Limits(max_connections=residents + 5)
    rng = random.Random(7)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        people = [Resident(client, tally, lambda: rng.uniform(*think), rng) for _ in range(residents)]
        # Residents come in over one pause, not all in the same millisecond: a simultaneous first
        # message from every resident queues them all behind Rasa's one event loop (20 × ~70 ms),
        # and in a 30 s phase those 20 turns alone are ~9 % of all turns, i.e. they were the p95.
        starts = [rng.uniform(0, think[1]) for _ in people]
        await asyncio.gather(
            *(
                p.talk_until(done, n, book_every, start)
                for n, (p, start) in enumerate(zip(people, starts, strict=True))
            )
        )


def in_own_loop(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run the crowd on a thread of its own: the caller's thread may already run an event loop
    (a test session with Playwright's sync API does)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=run, name="residents")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
