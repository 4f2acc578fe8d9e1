"""“猜你想问”: the most-asked services of the window, phrased from the guides (never from what a
resident typed), topped up from the curated list, cached between refreshes; on a real database."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from core.settings import PROJECT_ROOT, KnowledgeSettings, ServicesSettings, Settings, WorkbenchSettings
from indexer.loader import load_guides
from services.db import make_engine, make_sessionmaker
from services.facade import Services
from services.models import AnalyticsTurn, TurnKind
from services.scratch import sqlite_database
from workbench.suggestions import CuratedInvalid, Suggestions, load_curated, phrase

NOW = dt.datetime(2026, 11, 30, 10, 0)
CURATED = ["低保要带哪些材料", "查办件进度", "啥子叫容缺受理", "身份证丢了怎么补办", "结婚登记在哪里办"]
RAW = "我屋头奶奶85岁了电话13800138000补贴咋个领哦"
_ids = itertools.count()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with sqlite_database(tmp_path) as url:
        yield Services(
            make_sessionmaker(make_engine(url)), ServicesSettings(database_url=url), clock=lambda: NOW
        )


def _curated(directory: Path, questions: list[str] = CURATED) -> Path:
    path = directory / "suggestions.yaml"
    data = {"sample_notice": "示例数据，以贵州政务服务网公布为准", "questions": questions}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _settings(curated: Path, count: int = 4) -> Settings:
    return Settings(
        environment="test",
        knowledge=KnowledgeSettings(suggestions_file=curated),
        workbench=WorkbenchSettings(
            suggestions_count=count, suggestions_days=14, suggestions_refresh_seconds=600
        ),
    )


def _asked(
    services: Services,
    guide_id: str | None,
    section: str | None,
    times: int,
    *,
    kind: TurnKind = TurnKind.answered,
    days_ago: int = 1,
) -> None:
    with services.unit() as (session, _ctx):
        for _ in range(times):
            n = next(_ids)
            session.add(
                AnalyticsTurn(
                    turn_id=f"t{n}",
                    sender=f"s{n}",
                    channel="web",
                    at=NOW - dt.timedelta(days=days_ago),
                    text=RAW,
                    intent="ask_materials",
                    confidence=0.9,
                    entities=[],
                    guide_id=guide_id,
                    section=section,
                    kind=kind,
                )
            )


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _book(services: Services, settings: Settings, ticks: Ticks | None = None) -> Suggestions:
    return Suggestions(services, settings, now=lambda: NOW, monotonic=ticks or Ticks())


def test_the_most_asked_services_come_first_in_words_a_resident_would_tap(
    services: Services, tmp_path: Path
) -> None:
    _asked(services, "gaoling_butie", "materials", 3)
    _asked(services, "gaoling_butie", "fees", 2)
    _asked(services, "jiehun_dengji", "location", 4)
    _asked(services, "chusheng_dengji", None, 2)
    _asked(services, "zuidi_shenghuo_baozhang_shenqing", "materials", 9, kind=TurnKind.fallback)
    _asked(services, "zuidi_shenghuo_baozhang_shenqing", "materials", 9, days_ago=20)  # outside the window
    _asked(services, "removed_guide", "materials", 8)  # no such guide any more
    _asked(services, None, None, 9)  # answered without a guide (a status, a verdict)
    questions = _book(services, _settings(_curated(tmp_path))).questions()
    # 高龄补贴 5 answered turns (mostly materials), 结婚登记 4, 出生登记 2 (no section); then the
    # curated list, without repeating 结婚登记在哪里办.
    assert questions == [
        "高龄补贴要带哪些材料",
        "结婚登记在哪里办",
        "出生登记怎么办",
        "低保要带哪些材料",
    ]
    assert all(RAW not in q for q in questions)


def test_without_recorded_turns_the_curated_list_is_offered(services: Services, tmp_path: Path) -> None:
    settings = _settings(_curated(tmp_path), count=3)
    assert _book(services, settings).questions() == CURATED[:3]


def test_the_list_is_kept_until_the_refresh_interval_passes(services: Services, tmp_path: Path) -> None:
    ticks = Ticks()
    book = _book(services, _settings(_curated(tmp_path), count=2), ticks)
    assert book.questions() == CURATED[:2]
    _asked(services, "jiehun_dengji", "materials", 2)
    ticks.now = 599
    assert book.questions() == CURATED[:2]
    ticks.now = 600
    assert book.questions() == ["结婚登记要带哪些材料", CURATED[0]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"sample_notice": "示例数据", "questions": []}, "suggestions.yaml 的 questions：至少要有一个问题"),
        ({"sample_notice": "示例数据", "questions": ["低保", "低保"]}, "重复的问题：低保"),
        ({"sample_notice": "示例数据", "questions": ["问" * 41]}, "questions.0：问题太长"),
        ({"sample_notice": "示例数据", "questions": ["低保"], "answers": []}, "answers：不认识的键"),
        ({"questions": ["低保"]}, "sample_notice：缺少此项"),
        ({"sample_notice": "以官网为准", "questions": ["低保"]}, "sample_notice：应注明"),
    ],
)
def test_an_invalid_curated_list_names_the_file_and_field(
    tmp_path: Path, content: dict, message: str
) -> None:
    path = tmp_path / "suggestions.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CuratedInvalid, match=message):
        load_curated(path)


def test_the_shipped_curated_list_is_valid_and_marked_as_sample() -> None:
    questions = load_curated(PROJECT_ROOT / "knowledge" / "suggestions.yaml")
    assert len(questions) >= WorkbenchSettings().suggestions_count


@pytest.mark.parametrize(
    ("guide_id", "section", "question"),
    [
        ("canjirenzheng_banli", None, "残疾人证怎么办理"),  # not 残疾人证办理怎么办理
        ("gaoling_butie", "materials", "高龄补贴要带哪些材料"),  # not 高龄补贴申领要带…
        ("linmu_caifa_xuke", None, "林木采伐许可证怎么办"),  # the office 核发s; the resident 办s
        ("chengxiang_jumin_yibao_jiaofei", "fees", "新农合要交多少钱"),  # a long name: its alias
    ],
)
def test_questions_read_as_a_resident_would_ask(guide_id: str, section: str | None, question: str) -> None:
    (loaded,) = [
        g for g in load_guides(PROJECT_ROOT / "knowledge" / "guides").guides if g.guide.id == guide_id
    ]
    assert phrase(loaded.guide, section) == question
