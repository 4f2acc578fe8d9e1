"""Retention: rows on either side of the cut-off, on SQLite and PostgreSQL (services database and
Rasa's tracker store alike); the audit log, applications and appointments stay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, func, select
from svc_support import NOW, Clock, count_rows, scratch_database, submit_application

import services.__main__ as cli
from core.settings import PROJECT_ROOT, ServicesSettings, Settings
from services import analytics_store, personal_holds
from services.agency import AgencyRequestForm
from services.errors import NotFound
from services.facade import Services
from services.feedback import ComplaintRequest, RatingRequest
from services.handoff_desk import HandoffRequest, TranscriptMessage
from services.models import (
    AgencyStatus,
    AnalyticsTurn,
    Application,
    AuditRecord,
    ComplaintKind,
    HandoffLine,
    HandoffReply,
    PersonalDataHold,
    RateCounter,
    Rating,
    TicketStatus,
    TurnKind,
)
from services.retention import purge

DAYS = 180
OLD = NOW - dt.timedelta(days=DAYS + 20)
RECENT = NOW - dt.timedelta(days=DAYS - 20)
ZONE = ZoneInfo("Asia/Shanghai")

# Rasa's SQL tracker store table (rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent).
_tracker = MetaData()
EVENTS = Table(
    "events",
    _tracker,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@pytest.fixture
def tracker_store(backend: str, tmp_path: Path) -> Iterator[str]:
    """Rasa's tracker store on the same backend: one old conversation, one that goes on today."""
    with scratch_database(backend, tmp_path) as url:
        engine = create_engine(url)
        _tracker.create_all(engine)
        events = [
            ("web:old", "user", OLD),
            ("web:old", "bot", OLD),
            ("wechat:regular", "user", OLD),
            ("wechat:regular", "user", RECENT),
            ("wechat:regular", "bot", NOW),
        ]
        with engine.begin() as connection:
            connection.execute(
                EVENTS.insert(),
                [
                    {"sender_id": sender, "type_name": kind, "timestamp": at.replace(tzinfo=ZONE).timestamp()}
                    for sender, kind, at in events
                ],
            )
        engine.dispose()
        yield url


def analysed_turn(svc: Services, turn_id: str) -> None:
    with svc.unit() as (session, ctx):
        session.add(
            AnalyticsTurn(
                turn_id=turn_id,
                sender="s1",
                channel="web",
                at=ctx.now,
                text="低保要带啥子",
                entities=[],
                kind=TurnKind.answered,
            )
        )


def senders_left(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(select(EVENTS.c.sender_id, EVENTS.c.type_name).order_by(EVENTS.c.id)).all()
    engine.dispose()
    return [(sender, kind) for sender, kind in rows]


def handoff(svc: Services, sender: str, text: str) -> str:
    request = HandoffRequest(
        sender_id=sender, channel="web", transcript=[TranscriptMessage(role="user", text=text)]
    )
    return svc.open_handoff(request).ticket


def rate(svc: Services, turn: str) -> None:
    svc.rate(RatingRequest(sender_id="web:r", turn_id=turn, score=4, comment="我电话15800009119"))


def complaint(svc: Services, finished: bool) -> str:
    number = svc.open_complaint(
        ComplaintRequest(sender_id="web:c", kind=ComplaintKind.complaint, content="窗口排队太久")
    ).tracking_number
    if finished:
        svc.update_complaint(number, TicketStatus.resolved, actor="业务员", resolution="已增加窗口")
    return number


def agency_request(svc: Services, finished: bool) -> str:
    form = AgencyRequestForm(
        sender_id="web:d",
        name="张三",
        phone="15800009119",
        district="湄潭县",
        town="兴隆镇",
        service_id="gongjijin_tiqu",
    )
    number = svc.open_agency_request(form, bundles_dir=PROJECT_ROOT / "knowledge" / "bundles").tracking_number
    if finished:
        svc.change_agency_status(number, AgencyStatus.cancelled, actor="业务员", note="群众已自行办理")
    return number


def test_purge_deletes_what_is_past_retention_and_keeps_the_rest(
    svc: Services, clock: Clock, tracker_store: str
) -> None:
    clock.now = OLD
    closed_long_ago = handoff(svc, "web:h1", "我手机15800009119，要找人工")
    svc.claim_handoff(closed_long_ago, agent="王芳")
    svc.reply_to_handoff(closed_long_ago, agent="王芳", text="您好")
    svc.close_handoff(closed_long_ago, agent="王芳")
    abandoned = handoff(svc, "web:h2", "有人吗")
    still_talking = handoff(svc, "web:h3", "转人工")
    rate(svc, "old")
    analysed_turn(svc, "old")
    old_finished, old_open = complaint(svc, finished=True), complaint(svc, finished=False)
    old_agency, old_agency_open = agency_request(svc, finished=True), agency_request(svc, finished=False)
    old_application = submit_application(svc, "gongjijin_tiqu")
    with svc.unit() as (session, ctx):
        personal_holds.hold(session, ctx, "web:f1", "phone", "15800009119")
        session.add(RateCounter(key="lookup:web:f1", window_start=ctx.now, count=3))

    clock.now = RECENT
    svc.relay_to_agent("web:h3", "还在等")
    closed_lately = handoff(svc, "web:h4", "转人工")
    svc.close_handoff(closed_lately, agent="李强")
    rate(svc, "recent")
    analysed_turn(svc, "recent")
    recent_finished = complaint(svc, finished=True)
    recent_agency = agency_request(svc, finished=True)

    clock.now = NOW
    with svc.unit() as (session, ctx):
        current = personal_holds.hold(session, ctx, "web:f2", "phone", "13985001234")
        session.add(RateCounter(key="lookup:web:f2", window_start=ctx.now, count=3))
    audit_rows = count_rows(svc, AuditRecord)

    expected = {
        "events": 3,
        "handoff_lines": 2 + 1,  # the closed handoff's two lines, the abandoned one's one
        "handoff_replies": 1,
        "handoffs": 2,
        "ratings": 1,
        "complaints": 1,
        "agency_requests": 1,
        "analytics_turns": 1,
        "personal_data_holds": 1,
        "rate_counters": 1,
    }
    dry = purge(svc, older_than_days=DAYS, conversation_store=tracker_store, dry_run=True)
    assert dry.deleted == expected and dry.cutoff == NOW - dt.timedelta(days=DAYS)
    assert len(senders_left(tracker_store)) == 5 and count_rows(svc, Rating) == 2  # nothing gone

    done = purge(svc, older_than_days=DAYS, conversation_store=tracker_store)
    assert done.deleted == expected and not done.dry_run
    assert senders_left(tracker_store) == [("wechat:regular", "user"), ("wechat:regular", "bot")]
    for gone in (closed_long_ago, abandoned):
        with pytest.raises(NotFound):
            svc.handoff(gone)
    assert svc.handoff(closed_lately).status.value == "closed"
    assert [m.text for m in svc.handoff(still_talking).transcript] == ["转人工", "还在等"]
    assert count_rows(svc, HandoffLine) == 3 and count_rows(svc, HandoffReply) == 0
    with svc.unit() as (session, _ctx):
        assert session.scalars(select(Rating.turn_id)).all() == ["recent"]
        assert session.scalars(select(AnalyticsTurn.turn_id)).all() == ["recent"]
        assert session.scalars(select(PersonalDataHold.reference)).all() == [current.reference]
        assert session.scalars(select(RateCounter.key)).all() == ["lookup:web:f2"]
    with pytest.raises(NotFound):
        svc.complaint_status(old_finished)
    assert svc.complaint_status(old_open).status is TicketStatus.open
    assert svc.complaint_status(recent_finished).status is TicketStatus.resolved
    with pytest.raises(NotFound):
        svc.agency_request(old_agency)
    assert svc.agency_request(old_agency_open).status is AgencyStatus.received
    assert svc.agency_request(recent_agency).status is AgencyStatus.cancelled
    # Kept: administrative records and the audit log, which also records the purge.
    assert count_rows(svc, AuditRecord) == audit_rows + 1
    assert count_rows(svc, Application) == 1
    assert svc.lookup_application(old_application.number, "15800009119", "web:check") is not None
    (record,) = svc.audit_log(reader="审计员", action="retention.purge")
    assert (record.actor, record.detail) == ("cli:purge", {"older_than_days": DAYS, **expected})

    again = purge(svc, older_than_days=DAYS, conversation_store=tracker_store)
    assert set(again.deleted.values()) == {0}


def test_a_tracker_store_rasa_has_not_created_yet_is_nothing_to_purge(svc: Services, tmp_path: Path) -> None:
    missing = tmp_path / "never-created.db"
    report = purge(svc, older_than_days=DAYS, conversation_store=f"sqlite:///{missing}")
    assert report.deleted["events"] == 0 and not missing.exists()


@pytest.fixture
def cli_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = Settings(
        services=ServicesSettings(
            database_url=f"sqlite:///{tmp_path / 'services.db'}", secret_key=SecretStr("a-real-secret")
        )
    )
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    return settings


def test_the_purge_command_prints_what_it_deletes_per_table(
    cli_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "tracker.db"
    engine = create_engine(f"sqlite:///{store}")
    _tracker.create_all(engine)
    with engine.begin() as connection:
        connection.execute(EVENTS.insert(), [{"sender_id": "web:x", "type_name": "user", "timestamp": 1.0}])
    cli_settings.services.conversation_store_url = f"sqlite:///{store}"

    assert cli.main(["purge", "--older-than", "30", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "保留期 30 天：将删除" in out and "Rasa 对话事件（含群众消息）：1 条" in out and "未删除" in out
    assert cli.main(["purge", "--older-than", "30"]) == 0
    assert "已删除" in capsys.readouterr().out
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(EVENTS)) == 0
    engine.dispose()


def test_the_purge_command_stops_when_it_cannot_find_rasas_store(
    cli_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_settings.rasa.endpoints = Path("endpoints.production.yml")
    monkeypatch.delenv("ZY_TRACKER_DB_HOST", raising=False)
    assert cli.main(["purge"]) == 1
    error = capsys.readouterr().err
    assert "未删除任何记录" in error and "ZY_TRACKER_DB_HOST" in error
    assert "ZY_SERVICES__CONVERSATION_STORE_URL" in error
    with pytest.raises(SystemExit):
        cli.main(["purge", "--older-than", "0"])


def test_broker_events_the_ingester_has_read_are_deleted_whatever_their_age(
    svc: Services, tracker_store: str
) -> None:
    """The SQL event broker's table is only a buffer: rows behind the ingester's cursor go, the
    ones it has not read yet stay (even the old ones)."""
    with svc.unit() as (session, ctx):
        analytics_store.move_cursor(session, analytics_store.SQL_BROKER_CURSOR, 3, ctx.now)
    done = purge(svc, older_than_days=DAYS, conversation_store=None, broker_buffer=tracker_store)
    assert done.deleted["broker_events"] == 3
    assert senders_left(tracker_store) == [("wechat:regular", "user"), ("wechat:regular", "bot")]
