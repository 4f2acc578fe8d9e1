"""The 发布 button: bring the index up to date with the edited guides (incremental; only changed
chunks are encoded). Running processes pick the new index version up themselves."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from core.settings import Settings
from indexer.builder import build_index
from services.errors import Conflict, InvalidInput
from services.facade import Services

_building = threading.Lock()


@dataclass(frozen=True)
class Published:
    summary: str
    problems: tuple[str, ...]  # guides the build skipped, each with its file and field
    up_to_date: bool
    guides: int
    chunks: int


def publish(services: Services, settings: Settings, *, actor: str) -> Published:
    """Blocking (may encode for seconds): call it off the event loop. One build at a time."""
    if not _building.acquire(blocking=False):
        raise Conflict("索引正在发布中，请稍后再试。")
    try:
        report = build_index(settings)
    except RuntimeError as error:  # nothing valid to index at all
        raise InvalidInput(f"发布失败：{error}") from None
    finally:
        _building.release()
    published = Published(
        summary=report.summary(),
        problems=tuple(str(problem) for problem in report.problems),
        up_to_date=report.up_to_date,
        guides=report.guides,
        chunks=report.chunks,
    )
    services.record_knowledge_publish(
        actor=actor,
        result="problems" if published.problems else "ok",
        detail={
            "guides": report.guides,
            "chunks": report.chunks,
            "embedded": report.embedded,
            "up_to_date": report.up_to_date,
            "problems": list(published.problems[:20]),
        },
    )
    return published
