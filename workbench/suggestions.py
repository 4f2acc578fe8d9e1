"""“猜你想问”: the questions the widget's opening panel and the WeChat welcome offer.

The most-asked services of the last ``suggestions_days`` (answered turns in analytics_turns, by
guide) are phrased from the guide's own name and the section residents asked most — never from
what a resident typed, which may be misspelt, personal or odd. The curated list
(knowledge/suggestions.yaml) tops them up when there are too few, and is all there is before any
turn was recorded. The result is cached for ``suggestions_refresh_seconds``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from core.settings import Settings
from indexer.loader import load_guides
from indexer.schema import Guide
from services.analytics_suggestions import AskedGuide
from services.errors import DomainError

log = logging.getLogger(__name__)

SAMPLE_NOTICE = "示例数据，以贵州政务服务网公布为准"

# How a resident would ask for each section of a guide; {name} is the service without its
# bracketed qualifier (出生登记(新生儿入户) → 出生登记).
PHRASES: dict[str, str] = {
    "materials": "{name}要带哪些材料",
    "fees": "{name}要交多少钱",
    "benefits": "{name}能领多少钱",
    "conditions": "{name}需要什么条件",
    "time_limit": "{name}多久能办好",
    "location": "{name}在哪里办",
}
DEFAULT_PHRASE = "{name}怎么办"
_QUALIFIER = re.compile(r"[（(][^）)]*[）)]")
# 残疾人证办理 → 残疾人证怎么办理, not 残疾人证办理怎么办理.
_TRAILING_VERB = re.compile(r"(办理|申请|申领|核发|开具|签发)$")
RESIDENT_VERBS = frozenset({"办理", "申请", "申领", "开具"})
# Longer official names read badly on a button: the guide's shortest alias of a few characters
# (新农合, 两项补贴) is what residents say anyway.
LONG_NAME_CHARS = 12

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40)]


class CuratedInvalid(ValueError):
    """knowledge/suggestions.yaml does not validate; the message names the file and field."""


class Curated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample_notice: str
    questions: list[Question] = Field(min_length=1, max_length=50)

    @field_validator("questions")
    @classmethod
    def _distinct_single_lines(cls, questions: list[str]) -> list[str]:
        for question in questions:
            if "\n" in question:
                raise ValueError(f"“{question}”应为一行")
        repeated = sorted({q for q in questions if questions.count(q) > 1})
        if repeated:
            raise ValueError(f"重复的问题：{'、'.join(repeated)}")
        return questions


_CURATED_MESSAGES = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的键（可用：sample_notice、questions）",
    "string_too_short": "问题太短（至少2个字）",
    "string_too_long": "问题太长（最多40个字，居民要能一眼读完）",
    "too_short": "至少要有一个问题",
    "too_long": "最多50个问题",
    "list_type": "应为列表",
    "string_type": "应为文字",
}


def load_curated(path: Path) -> list[str]:
    """The curated questions; raises CuratedInvalid naming the file and field in Chinese."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as error:
        raise CuratedInvalid(f"{path.name}：无法读取为 UTF-8 YAML（{error}）") from None
    try:
        curated = Curated.model_validate(data)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            where = ".".join(str(part) for part in detail["loc"]) or "(文件)"
            kind = str(detail["type"])
            message = _CURATED_MESSAGES.get(kind) or str(detail.get("ctx", {}).get("error", detail["msg"]))
            problems.append(f"{path.name} 的 {where}：{message}")
        raise CuratedInvalid("；".join(problems)) from None
    if "示例数据" not in curated.sample_notice:
        raise CuratedInvalid(f"{path.name} 的 sample_notice：应注明“{SAMPLE_NOTICE}”")
    return list(curated.questions)


def phrase(guide: Guide, section: str | None) -> str:
    """The question a resident would tap for ``guide``'s most-asked ``section``."""
    name = _QUALIFIER.sub("", guide.name).strip() or guide.name
    if len(name) > LONG_NAME_CHARS:
        short = sorted((a for a in guide.aliases if 3 <= len(a) < len(name)), key=len)
        name = short[0] if short else name
    verb = _TRAILING_VERB.search(name)
    if section in PHRASES:  # 高龄补贴要带哪些材料, not 高龄补贴申领要带哪些材料
        return PHRASES[section].format(name=name[: verb.start()] if verb and verb.start() else name)
    if verb and verb.start():
        # What the resident does (申领 a card) is asked as such; what the office does (核发) is not.
        asked = verb.group(0) if verb.group(0) in RESIDENT_VERBS else "办"
        return f"{name[: verb.start()]}怎么{asked}"
    return DEFAULT_PHRASE.format(name=name)


def choose(asked: list[AskedGuide], guides: dict[str, Guide], curated: list[str], count: int) -> list[str]:
    """The most-asked guides' questions in order, then the curated ones, ``count`` in all."""
    chosen: list[str] = []
    for item in asked:
        guide = guides.get(item.guide_id)
        if guide is None:  # a guide removed since: nothing to answer the tap with
            continue
        question = phrase(guide, item.top_section)
        if question not in chosen:
            chosen.append(question)
    for question in curated:
        if question not in chosen:
            chosen.append(question)
    return chosen[:count]


class AskedSource(Protocol):
    """services.facade.Services, or anything answering the same way."""

    def most_asked_guides(self, *, since: dt.datetime, limit: int) -> list[AskedGuide]: ...


class Suggestions:
    """The current questions, recomputed at most every ``suggestions_refresh_seconds``."""

    def __init__(
        self,
        services: AskedSource,
        settings: Settings,
        *,
        now: Callable[[], dt.datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._services = services
        self._settings = settings
        self._now = now
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._questions: list[str] = []
        self._computed_at = float("-inf")
        self._guides: dict[str, Guide] = {}
        self._guides_signature: tuple[tuple[str, int], ...] | None = None

    def questions(self) -> list[str]:
        """Blocking (database and files) when the cache is stale or a guide file changed: call it off
        the event loop."""
        with self._lock:
            refresh = self._settings.workbench.suggestions_refresh_seconds
            guides_changed = _signature(self._settings.knowledge.guides_dir) != self._guides_signature
            if guides_changed or self._monotonic() - self._computed_at >= refresh:
                self._questions = self._compute()
                self._computed_at = self._monotonic()
            return list(self._questions)

    def _compute(self) -> list[str]:
        workbench, knowledge = self._settings.workbench, self._settings.knowledge
        try:
            curated = load_curated(knowledge.suggestions_file)
        except CuratedInvalid as error:
            log.error("curated suggestions skipped: %s", error)
            curated = []
        since = self._now() - dt.timedelta(days=workbench.suggestions_days)
        try:
            # More guides than needed: some may have been removed since.
            asked = self._services.most_asked_guides(since=since, limit=workbench.suggestions_count * 2)
        except DomainError as error:  # the database is away: the curated list still helps
            log.warning("most-asked questions unavailable: %s", error)
            asked = []
        return choose(asked, self._current_guides(knowledge.guides_dir), curated, workbench.suggestions_count)

    def _current_guides(self, directory: Path) -> dict[str, Guide]:
        """The valid guides, validated again only when a guide file changed (it takes a second)."""
        signature = _signature(directory)
        if signature != self._guides_signature:
            self._guides = {loaded.guide.id: loaded.guide for loaded in load_guides(directory).guides}
            self._guides_signature = signature
        return self._guides


def _signature(directory: Path) -> tuple[tuple[str, int], ...]:
    """Names and modification times of the guide files: a removed or edited guide is noticed
    at the next request rather than after the refresh interval."""
    return tuple(
        (path.name, path.stat().st_mtime_ns) for path in sorted(directory.iterdir()) if path.is_file()
    )
