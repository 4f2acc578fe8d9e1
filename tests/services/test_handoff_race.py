"""A resident's messages relayed while the agent replies, at the same moment, on one handoff:
every line of both ends up in the transcript (it used to be a JSON list rewritten whole, and
the relay's rewrite could drop the reply's line or the other way round).

Real commits from several threads, so each test gets its own freshly migrated database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from svc_support import Clock, make_settings, sample_catalog, scratch_database

from services.db import make_engine, make_sessionmaker
from services.facade import Services
from services.handoff_desk import HandoffRequest, TranscriptMessage

THREADS_PER_SIDE = 4
MESSAGES_PER_THREAD = 10
SENDER = "web:race"
AGENT = "王芳"


@pytest.fixture
def committed(backend: str, tmp_path: Path) -> Iterator[Services]:
    with scratch_database(backend, tmp_path) as url:
        engine = make_engine(url, pool_size=2 * THREADS_PER_SIDE + 2, max_overflow=2)
        yield Services(make_sessionmaker(engine), make_settings(url), clock=Clock())
        engine.dispose()


def run_together(calls: list[Callable[[], None]]) -> None:
    """Start every call at the same moment; re-raise the first failure."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], None]) -> None:
        barrier.wait()
        call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for future in [pool.submit(run, call) for call in calls]:
            future.result()


def test_relayed_messages_and_agent_replies_at_once_lose_no_line(committed: Services) -> None:
    committed.sync_catalog(sample_catalog())
    ticket = committed.open_handoff(
        HandoffRequest(
            sender_id=SENDER, channel="web", transcript=[TranscriptMessage(role="user", text="转人工")]
        )
    ).ticket
    committed.claim_handoff(ticket, agent=AGENT)

    def resident(thread: int) -> None:
        for index in range(MESSAGES_PER_THREAD):
            assert committed.relay_to_agent(SENDER, f"群众{thread}-{index}") is not None

    def agent(thread: int) -> None:
        for index in range(MESSAGES_PER_THREAD):
            committed.reply_to_handoff(ticket, agent=AGENT, text=f"坐席{thread}-{index}")

    run_together(
        [
            *(lambda t=t: resident(t) for t in range(THREADS_PER_SIDE)),
            *(lambda t=t: agent(t) for t in range(THREADS_PER_SIDE)),
        ]
    )

    sent = {
        (role, f"{who}{thread}-{index}")
        for role, who in (("user", "群众"), ("agent", "坐席"))
        for thread in range(THREADS_PER_SIDE)
        for index in range(MESSAGES_PER_THREAD)
    }
    lines = [(m.role, m.text) for m in committed.handoff(ticket).transcript]
    assert lines[0] == ("user", "转人工")
    assert len(lines) == 1 + len(sent) and set(lines[1:]) == sent
    inbox = committed.handoff_inbox(SENDER)
    assert {m.text for m in inbox.messages} == {text for role, text in sent if role == "agent"}
    for who in ("群众", "坐席"):  # and each thread's lines in the order it sent them
        for thread in range(THREADS_PER_SIDE):
            mine = [text for _role, text in lines if text.startswith(f"{who}{thread}-")]
            assert mine == [f"{who}{thread}-{index}" for index in range(MESSAGES_PER_THREAD)]
