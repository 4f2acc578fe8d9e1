"""The append-only audit trail: who did what to which record, when, with what result.

Only inserts happen here; the database refuses UPDATE and DELETE on the table (see the
initial migration), and the API offers reading only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.identity import mask_text
from services.models import AuditRecord


class AuditView(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str | None
    result: str
    detail: dict[str, Any] | None


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
    """Append one record; string details are masked in case a caller passed personal data."""
    safe = {
        key: mask_text(value) if isinstance(value, str) else value for key, value in (detail or {}).items()
    }
    session.add(
        AuditRecord(
            at=at, actor=actor[:128], action=action, target=target, result=result, detail=safe or None
        )
    )
    session.flush()


def recent(
    session: Session, *, limit: int = 100, action: str | None = None, target: str | None = None
) -> list[AuditView]:
    query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(max(1, min(limit, 1000)))
    if action:
        query = query.where(AuditRecord.action == action)
    if target:
        query = query.where(AuditRecord.target == target)
    return [AuditView.model_validate(row, from_attributes=True) for row in session.scalars(query)]
