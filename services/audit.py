"""The append-only audit trail: who did what to which record, when, with what result.

Only inserts happen here; the database refuses UPDATE and DELETE on the table (see the
initial migration), and the API offers reading only. A database administrator can still drop
those triggers, so every row also carries a hash chain: ``row_hash`` is an HMAC, under a key
derived from the application's secret, of the row's content and the previous row's hash.
Editing, deleting or slipping in a row without that key breaks the chain, and ``verify`` finds
the first row where it breaks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.context import Context
from services.identity import mask_text
from services.log_privacy import pseudonym
from services.models import AuditRecord

CHAIN_LOCK = 72_420_018  # PostgreSQL advisory lock key of the chain (migrations use 72_420_017)
_KEY_SLOT = "audit_chain_key"
_SECRET_SLOT = "resident_pseudonym_secret"
# A resident acts under their conversation id, which opens their inbox: the log names them by the
# same pseudonym the process logs use, so an auditor can follow one resident without holding it.
RESIDENT_PREFIXES = ("web:", "wechat:")


class AuditView(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str | None
    result: str
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class ChainCheck:
    """What ``verify`` found: how far the chain holds and, if it breaks, where and why."""

    checked: int  # chained rows whose link and hash were confirmed
    unchained: int  # rows written before the chain began (migration 0003), which nothing can confirm
    head_id: int | None  # the last confirmed row
    broken_at: int | None = None  # the first row that fails
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def bind_key(session: Session, ctx: Context) -> None:
    """Give a unit's session the key ``record`` signs rows with (``Services.unit`` does this)."""
    session.info[_KEY_SLOT] = ctx.audit_key
    session.info[_SECRET_SLOT] = ctx.settings.secret_key


def record(
    session: Session,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    target: str | None,
    result: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one record to the chain; string details are masked in case a caller passed personal data.

    On PostgreSQL this takes a transaction-level lock held until commit, so that concurrent writers
    append one after the other instead of forking the chain; SQLite transactions already begin with
    the write lock (services/db.py). Call it after the unit's other row locks, not before.
    """
    chain_key = session.info.get(_KEY_SLOT)
    if chain_key is None:
        raise RuntimeError("audit.record needs a session from Services.unit(), which binds the chain key")
    if not actor.strip():
        raise ValueError("an audit record needs the acting person or sender")
    if at.tzinfo is not None:
        raise ValueError("audit times are naive local times, as every stored time")
    safe = {
        key: mask_text(value) if isinstance(value, str) else value for key, value in (detail or {}).items()
    }
    if actor.startswith(RESIDENT_PREFIXES):
        channel, _, _ = actor.partition(":")
        actor = f"{channel}:{pseudonym(actor, secret=session.info[_SECRET_SLOT])}"
    row = AuditRecord(
        at=at,
        actor=actor[:128],
        action=action,
        target=target[:64] if target else target,
        result=result,
        # Through JSON and back, so the hash covers exactly what the database will return.
        detail=json.loads(json.dumps(safe)) if safe else None,
    )
    _lock_chain(session)
    row.prev_hash = session.scalar(
        select(AuditRecord.row_hash)
        .where(AuditRecord.row_hash.is_not(None))
        .order_by(AuditRecord.id.desc())
        .limit(1)
    )
    row.row_hash = _row_hash(chain_key, row)
    session.add(row)
    session.flush()


def read(
    session: Session,
    ctx: Context,
    *,
    reader: str,
    limit: int = 100,
    action: str | None = None,
    target: str | None = None,
) -> list[AuditView]:
    """The newest records matching the filters; the read itself is then recorded, under ``reader``."""
    records = recent(session, limit=limit, action=action, target=target)
    filters = {"action": action, "target": target, "limit": limit}
    record(
        session,
        at=ctx.now,
        actor=reader,
        action="audit.read",
        target=None,
        result="ok",
        detail={**{k: v for k, v in filters.items() if v is not None}, "rows": len(records)},
    )
    return records


def recent(
    session: Session, *, limit: int = 100, action: str | None = None, target: str | None = None
) -> list[AuditView]:
    query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(max(1, min(limit, 1000)))
    if action:
        query = query.where(AuditRecord.action == action)
    if target:
        query = query.where(AuditRecord.target == target)
    return [AuditView.model_validate(row, from_attributes=True) for row in session.scalars(query)]


def verify(session: Session, ctx: Context) -> ChainCheck:
    """Walk the whole log in id order and report the first row where the chain breaks.

    Rows before the first chained one are older than the chain and are counted, not judged. After
    it, every row must be chained, point at the previous chained row and carry its own HMAC.
    Deleting the newest rows leaves a shorter, valid chain: compare ``head_id`` with an earlier run.
    """
    key = ctx.audit_key
    checked = unchained = 0
    previous: AuditRecord | None = None
    rows = session.scalars(select(AuditRecord).order_by(AuditRecord.id).execution_options(yield_per=500))
    for row in rows:
        head_id = previous.id if previous else None
        if row.row_hash is None:
            if previous is None:
                unchained += 1
                continue
            return ChainCheck(
                checked,
                unchained,
                head_id,
                row.id,
                f"第 {row.id} 条记录不在哈希链上（链开始后每条记录都应有摘要）：它是绕过应用插入的，"
                "或其摘要被抹去。",
            )
        if row.prev_hash != (previous.row_hash if previous else None):
            problem = (
                f"第 {row.id} 条记录与上一条已核验的记录（第 {head_id} 条）衔接不上："
                "两者之间有记录被删除，或本条是伪造插入的。"
                if previous
                else f"第 {row.id} 条记录指向的上一条记录不存在：哈希链开头的记录被删除。"
            )
            return ChainCheck(checked, unchained, head_id, row.id, problem)
        if not hmac.compare_digest(row.row_hash, _row_hash(key, row)):
            return ChainCheck(
                checked,
                unchained,
                head_id,
                row.id,
                f"第 {row.id} 条记录的内容与其摘要不符：该记录被修改过，或是绕过应用写入的伪造记录。",
            )
        checked += 1
        previous = row
    return ChainCheck(checked, unchained, previous.id if previous else None)


def _lock_chain(session: Session) -> None:
    # The next statement then sees the previous holder's row: READ COMMITTED (the engine's default)
    # takes a fresh snapshot per statement, and the lock is released only after that commit.
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


def _row_hash(key: bytes, row: AuditRecord) -> str:
    content = json.dumps(
        {
            "prev": row.prev_hash,
            "at": row.at.isoformat(),
            "actor": row.actor,
            "action": row.action,
            "target": row.target,
            "result": row.result,
            "detail": row.detail,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(key, content.encode(), hashlib.sha256).hexdigest()
