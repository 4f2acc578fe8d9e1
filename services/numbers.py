"""Human-quotable numbers: prefix + date + daily sequence (ZW202611260001), and random codes."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy.orm import Session

from services.models import NumberSequence
from services.sql import insert_for

# No 0/O, 1/I/L: residents read these codes aloud over the phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def next_number(session: Session, prefix: str, day: dt.date) -> str:
    """The next number for ``prefix`` on ``day``; atomic under concurrency on both backends."""
    key = f"{prefix}{day:%Y%m%d}"
    statement = (
        insert_for(session, NumberSequence)
        .values(key=key, last=1)
        .on_conflict_do_update(index_elements=[NumberSequence.key], set_={"last": NumberSequence.last + 1})
        .returning(NumberSequence.last)
    )
    sequence = int(session.execute(statement).scalar_one())
    return f"{key}{sequence:04d}"


def random_code(length: int = 8) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))
