"""The audit log names the person and a hash chain gives away editing, deleting or forging rows,
even by a database administrator who drops the append-only triggers first."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from svc_support import (
    NOW,
    Clock,
    audited_as,
    count_rows,
    make_settings,
    sample_catalog,
    scratch_database,
    submit_application,
)

from core.settings import get_settings
from services import audit, cli_audit
from services.__main__ import main
from services.audit import ChainCheck
from services.db import is_sqlite, make_engine, make_sessionmaker
from services.facade import Services
from services.feedback import ComplaintRequest
from services.models import AppStatus, AuditRecord, ComplaintKind, TicketStatus

WRITERS = 8
ROUNDS = 6


def check_chain(svc: Services) -> ChainCheck:
    with svc.unit() as (session, ctx):
        return audit.verify(session, ctx)


def chain_ids(svc: Services) -> list[int]:
    with svc.unit() as (session, _ctx):
        return list(session.scalars(select(AuditRecord.id).order_by(AuditRecord.id)))


def a_morning_at_the_hall(svc: Services) -> None:
    """Staff register and move an application, a resident checks it and complains, an auditor reads."""
    number = submit_application(svc, "getigongshanghu_sheli").number
    svc.advance_application(number, AppStatus.accepted, handler="chuangkou01")
    svc.advance_application(number, AppStatus.reviewing, handler="shenpi02")
    svc.lookup_application(number, "31002X", "web:alice")
    ticket = svc.open_complaint(
        ComplaintRequest(sender_id="web:alice", kind=ComplaintKind.complaint, content="窗口排队太久")
    ).tracking_number
    svc.update_complaint(ticket, TicketStatus.processing, actor="yewu03")
    svc.audit_log(reader="shenji04", limit=5)


def test_a_morning_at_the_hall_is_audited_by_name_on_one_unbroken_chain(svc: Services) -> None:
    a_morning_at_the_hall(svc)
    rows = list(reversed(svc.audit_log(reader="shenji04", limit=20)))
    assert [(r.actor, r.action, r.result) for r in rows] == [
        ("窗口申请", "application.submit", "submitted"),
        ("chuangkou01", "application.status", "accepted"),
        ("shenpi02", "application.status", "reviewing"),
        (audited_as(svc, "web:alice"), "application.lookup", "found"),
        (audited_as(svc, "web:alice"), "complaint.open", "open"),
        ("yewu03", "complaint.update", "processing"),
        ("shenji04", "audit.read", "ok"),
    ]
    assert rows[2].detail == {"from": "accepted"}
    assert rows[5].detail == {"from": "open"}

    check = check_chain(svc)
    assert check.ok, check.problem
    assert (check.checked, check.unchained) == (8, 0)  # the second read is on the chain too
    assert check.head_id == chain_ids(svc)[-1]


def test_reading_the_log_leaves_a_row_naming_the_reader_and_the_filters(svc: Services) -> None:
    submit_application(svc, "getigongshanghu_sheli")
    seen = svc.audit_log(reader="shenji04", action="application.submit", limit=10)
    assert [r.action for r in seen] == ["application.submit"]  # the read is recorded after it reads
    last = svc.audit_log(reader="shenji05", limit=1)[0]
    assert (last.actor, last.action, last.target) == ("shenji04", "audit.read", None)
    assert last.detail == {"action": "application.submit", "limit": 10, "rows": 1}


def test_nobody_reads_the_log_anonymously(svc: Services) -> None:
    with pytest.raises(ValueError, match="acting person"):
        svc.audit_log(reader="  ")
    assert count_rows(svc, AuditRecord) == 0


def test_an_untampered_log_verifies_and_the_command_says_how_many_rows(
    svc: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    a_morning_at_the_hall(svc)
    assert cli_audit.verify(svc) == 0
    out = capsys.readouterr().out
    assert "审计日志哈希链完好：已校验 7 条记录" in out
    assert f"链尾为第 {chain_ids(svc)[-1]} 条" in out


@dataclass(frozen=True)
class Tampering:
    """What a database administrator does after dropping the triggers; returns the row to blame."""

    name: str
    says: str
    act: Callable[[Session, list[int]], int]


def _edit(session: Session, ids: list[int]) -> int:
    session.execute(update(AuditRecord).where(AuditRecord.id == ids[2]).values(result="decided"))
    return ids[2]


def _edit_actor(session: Session, ids: list[int]) -> int:
    session.execute(update(AuditRecord).where(AuditRecord.id == ids[1]).values(actor="someone-else"))
    return ids[1]


def _delete(session: Session, ids: list[int]) -> int:
    session.execute(delete(AuditRecord).where(AuditRecord.id == ids[3]))
    return ids[4]


def _delete_and_relink(session: Session, ids: list[int]) -> int:
    """Delete a row and point the next one at its predecessor, as if it had never been there."""
    before = session.scalar(select(AuditRecord.row_hash).where(AuditRecord.id == ids[2]))
    session.execute(delete(AuditRecord).where(AuditRecord.id == ids[3]))
    session.execute(update(AuditRecord).where(AuditRecord.id == ids[4]).values(prev_hash=before))
    return ids[4]


def _delete_the_first(session: Session, ids: list[int]) -> int:
    session.execute(delete(AuditRecord).where(AuditRecord.id == ids[0]))
    return ids[1]


def _forge_at_the_end(session: Session, ids: list[int]) -> int:
    head = session.scalar(select(AuditRecord.row_hash).where(AuditRecord.id == ids[-1]))
    return _insert(session, prev_hash=head, row_hash="0" * 64)


def _insert_unchained(session: Session, ids: list[int]) -> int:
    return _insert(session, prev_hash=None, row_hash=None)


def _insert(session: Session, *, prev_hash: str | None, row_hash: str | None) -> int:
    values = {
        "at": NOW,
        "actor": "chuangkou01",
        "action": "application.status",
        "target": "ZW202611260001",
        "result": "completed",
        "prev_hash": prev_hash,
        "row_hash": row_hash,
    }
    return int(session.execute(insert(AuditRecord).values(values).returning(AuditRecord.id)).scalar_one())


TAMPERINGS = [
    Tampering("edit a result", "被修改", _edit),
    Tampering("edit an actor", "被修改", _edit_actor),
    Tampering("delete a row", "被删除", _delete),
    Tampering("delete a row and relink the next", "被修改", _delete_and_relink),
    Tampering("delete the first row", "开头的记录被删除", _delete_the_first),
    Tampering("forge a row at the end", "伪造", _forge_at_the_end),
    Tampering("insert a row without hashes", "不在哈希链上", _insert_unchained),
]


def drop_append_only_guard(session: Session) -> None:
    if is_sqlite(str(session.connection().engine.url)):
        session.execute(text("DROP TRIGGER audit_log_no_update"))
        session.execute(text("DROP TRIGGER audit_log_no_delete"))
    else:
        session.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=lambda t: t.name)
def test_tampering_by_a_database_administrator_is_found_at_its_row(
    svc: Services, tampering: Tampering, capsys: pytest.CaptureFixture[str]
) -> None:
    a_morning_at_the_hall(svc)
    ids = chain_ids(svc)
    with svc.unit() as (session, _ctx):
        drop_append_only_guard(session)
        blamed = tampering.act(session, ids)

    check = check_chain(svc)
    assert (check.broken_at, check.ok) == (blamed, False)
    assert tampering.says in (check.problem or "")
    assert cli_audit.verify(svc) == 1
    err = capsys.readouterr().err
    assert f"审计日志已被篡改：第 {blamed} 条记录" in err


def test_rows_from_before_the_chain_are_counted_but_none_may_follow_it(svc: Services) -> None:
    with svc.unit() as (session, _ctx):
        older = [_insert(session, prev_hash=None, row_hash=None) for _ in range(2)]
    a_morning_at_the_hall(svc)
    check = check_chain(svc)
    assert check.ok, check.problem
    assert (check.checked, check.unchained) == (7, 2)
    assert check.head_id is not None and check.head_id > max(older)

    with svc.unit() as (session, _ctx):
        late = _insert(session, prev_hash=None, row_hash=None)
    assert check_chain(svc).broken_at == late


def test_a_chain_rebuilt_without_the_applications_secret_does_not_verify(
    svc: Services, sessions: sessionmaker[Session], database_url: str, clock: Clock
) -> None:
    a_morning_at_the_hall(svc)
    guessed = Services(
        sessions, make_settings(database_url, secret_key=SecretStr("dev-only-not-secret")), clock=clock
    )
    assert check_chain(guessed).broken_at == chain_ids(svc)[0]


@pytest.fixture
def committed(backend: str, tmp_path: Path) -> Iterator[Services]:
    """Real commits from many threads need a database of their own (the rolled-back fixture is one
    connection)."""
    with scratch_database(backend, tmp_path) as url:
        engine = make_engine(url, pool_size=WRITERS + 2, max_overflow=4)
        yield Services(make_sessionmaker(engine), make_settings(url), clock=Clock())
        engine.dispose()


def test_concurrent_writers_append_to_one_chain(committed: Services) -> None:
    barrier = threading.Barrier(WRITERS)

    def work(writer: int) -> None:
        barrier.wait()
        for round_ in range(ROUNDS):
            if round_ % 2:
                committed.open_complaint(
                    ComplaintRequest(
                        sender_id=f"web:w{writer}", kind=ComplaintKind.complaint, content=f"第{round_}次反映"
                    )
                )
            else:
                committed.audit_log(reader=f"shenji{writer:02d}", limit=1)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(work, range(WRITERS)))

    check = check_chain(committed)
    assert check.ok, check.problem
    assert check.checked == WRITERS * ROUNDS == count_rows(committed, AuditRecord)


@pytest.fixture
def configured(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """A database the command line finds through the environment, as an operator's shell would."""
    with scratch_database(backend, tmp_path) as url:
        monkeypatch.setenv("ZY_SERVICES__DATABASE_URL", url)
        monkeypatch.setenv("ZY_SERVICES__SECRET_KEY", "test-secret-key")
        get_settings.cache_clear()
        services = Services.from_settings(upgrade=False)
        services.sync_catalog(sample_catalog())
        yield services
        get_settings.cache_clear()


def test_python_m_services_audit_verify(configured: Services, capsys: pytest.CaptureFixture[str]) -> None:
    submit_application(configured, "getigongshanghu_sheli")
    configured.audit_log(reader="shenji04")
    assert main(["audit", "verify"]) == 0
    assert "已校验 2 条记录" in capsys.readouterr().out

    with configured.unit() as (session, _ctx):
        drop_append_only_guard(session)
        first = session.scalar(select(AuditRecord.id).order_by(AuditRecord.id).limit(1))
        session.execute(update(AuditRecord).where(AuditRecord.id == first).values(actor="nobody"))
    assert main(["audit", "verify"]) == 1
    assert f"第 {first} 条记录的内容与其摘要不符" in capsys.readouterr().err
