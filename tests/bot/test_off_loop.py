"""Actions run off the action server's event loop: a blocking action does not freeze the others."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.base import Action
from core.settings import get_settings


class _Blocking(Action):
    """Waits (blocking its thread) until released, as a slow search or SQLite write would."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.waited: bool | None = None
        self.inner_threads: list[str] = []

    def name(self) -> str:
        return "action_test_blocking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Any]:
        self.waited = self.released.wait(timeout=3)
        self.inner_threads.append(threading.current_thread().name)
        dispatcher.utter_message(text="好了")
        return []


class _Nested(_Blocking):
    """Calls the parent's (also wrapped) run, as forms do with super().run."""

    def name(self) -> str:
        return "action_test_nested"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Any]:
        self.inner_threads.append(threading.current_thread().name)
        return await super().run(dispatcher, tracker, domain)


def _tracker() -> Tracker:
    return Tracker("t", {}, {}, [], False, None, {}, "action_listen")


async def test_the_loop_keeps_serving_while_an_action_blocks() -> None:
    action = _Blocking()
    dispatcher = CollectingDispatcher()
    running = asyncio.create_task(action.run(dispatcher, _tracker(), {}))
    await asyncio.sleep(0.05)  # the loop gets here only if the action is not holding it
    action.released.set()
    await running
    assert action.waited is True
    assert dispatcher.messages[0]["text"] == "好了"
    assert action.inner_threads[0].startswith("action")


async def test_a_nested_run_stays_on_the_same_worker_thread() -> None:
    action = _Nested()
    action.released.set()
    await action.run(CollectingDispatcher(), _tracker(), {})
    assert len(set(action.inner_threads)) == 1 and action.inner_threads[0].startswith("action")


async def test_switched_off_the_action_runs_on_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZY_ACTIONS__OFF_LOOP", "false")
    get_settings.cache_clear()
    try:
        action = _Blocking()
        action.released.set()
        await action.run(CollectingDispatcher(), _tracker(), {})
        assert action.inner_threads == [threading.current_thread().name]
    finally:
        monkeypatch.delenv("ZY_ACTIONS__OFF_LOOP")
        get_settings.cache_clear()
