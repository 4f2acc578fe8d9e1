"""Base classes of every action: ``run`` happens in a worker thread, off the server's event loop.

rasa_sdk awaits each action's ``run`` on its one event loop, and ours search (jieba, the encoder,
FAISS) and use the database synchronously: one slow search or SQLite write would freeze every
conversation on the action server. Subclassing these instead of rasa_sdk's classes moves the
whole ``run`` — including a form's ``validate_…`` and ``required_slots`` — to a bounded thread
pool (``ZY_ACTIONS__THREADS``), each thread running it on an event loop of its own.
``ZY_ACTIONS__OFF_LOOP=false`` runs actions on the server's loop as rasa_sdk does (to measure).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import rasa_sdk
import rasa_sdk.forms

from core.settings import get_settings

Run = Callable[..., Coroutine[Any, Any, Any]]
_in_worker = threading.local()


@functools.lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(get_settings().actions.threads, thread_name_prefix="action")


def _run_in_worker(run: Run, *args: Any) -> Any:
    """Run the coroutine function on this worker thread's own event loop."""
    runner = getattr(_in_worker, "runner", None)
    if runner is None:
        runner = _in_worker.runner = asyncio.Runner()
    _in_worker.active = True
    try:
        return runner.run(run(*args))
    finally:
        _in_worker.active = False


def off_loop(run: Run) -> Run:
    """``run`` wrapped to execute in the pool; a call made from inside a worker (``super().run``)
    runs in place, so nested calls never wait for a second thread."""

    @functools.wraps(run)
    async def in_worker(*args: Any) -> Any:
        if getattr(_in_worker, "active", False) or not get_settings().actions.off_loop:
            return await run(*args)
        return await asyncio.get_running_loop().run_in_executor(_pool(), _run_in_worker, run, *args)

    in_worker.__off_loop__ = True  # type: ignore[attr-defined]
    return in_worker


def _wrap_run(cls: type) -> None:
    run = cls.run  # type: ignore[attr-defined]
    if not getattr(run, "__off_loop__", False):
        cls.run = off_loop(run)  # type: ignore[attr-defined]


class Action(rasa_sdk.Action, ABC):
    """An action whose ``run`` executes off the event loop (see the module docstring)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _wrap_run(cls)

    @abstractmethod
    def name(self) -> str: ...


class FormValidationAction(rasa_sdk.forms.FormValidationAction, ABC):
    """A form validation whose ``run`` (slot extraction and ``validate_…``) executes off the loop."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _wrap_run(cls)

    @abstractmethod
    def name(self) -> str: ...
