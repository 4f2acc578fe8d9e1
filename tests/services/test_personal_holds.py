"""Personal numbers held for a running form: revealed to their conversation only, encrypted at
rest, gone when released or expired (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from svc_support import PERSON, Clock, make_settings

from services.facade import Services
from services.models import PersonalDataHold

SENDER = "wechat:oAbCdEf123"
OTHER_SENDER = "web:9f1c"


def _rows(sessions: sessionmaker[Session]) -> list[PersonalDataHold]:
    with sessions() as session:
        return list(session.scalars(select(PersonalDataHold)))


def test_a_held_number_is_revealed_to_its_own_conversation_only(svc: Services) -> None:
    id_held = svc.hold_personal(SENDER, "id_number", PERSON["id_number"])
    phone_held = svc.hold_personal(SENDER, "phone", PERSON["phone"])
    assert id_held.masked == "110105********002X" and phone_held.masked == "158****9119"
    assert svc.reveal_personal(SENDER, id_held.reference) == PERSON["id_number"]
    assert svc.reveal_personal(SENDER, phone_held.reference) == PERSON["phone"]
    assert svc.reveal_personal(OTHER_SENDER, phone_held.reference) is None
    assert svc.reveal_personal(SENDER, "no-such-reference") is None


def test_the_database_holds_neither_the_number_nor_the_sender(
    svc: Services, sessions: sessionmaker[Session]
) -> None:
    svc.hold_personal(SENDER, "id_number", PERSON["id_number"])
    svc.hold_personal(SENDER, "phone", PERSON["phone"])
    stored = " ".join(
        f"{row.reference} {row.conversation_hash} {row.kind} {row.ciphertext}" for row in _rows(sessions)
    )
    for secret in (PERSON["id_number"], PERSON["phone"], SENDER, "oAbCdEf123"):
        assert secret not in stored


def test_a_hold_expires_and_the_purge_deletes_only_expired_ones(
    svc: Services, clock: Clock, sessions: sessionmaker[Session]
) -> None:
    old = svc.hold_personal(SENDER, "phone", PERSON["phone"])
    clock.now += dt.timedelta(minutes=20)
    recent = svc.hold_personal(OTHER_SENDER, "phone", PERSON["phone"])
    clock.now += dt.timedelta(minutes=10)  # the first is 30 minutes old: the default hold
    assert svc.reveal_personal(SENDER, old.reference) is None
    assert svc.reveal_personal(OTHER_SENDER, recent.reference) == PERSON["phone"]
    assert svc.purge_expired_holds() == 1
    assert [row.reference for row in _rows(sessions)] == [recent.reference]


def test_the_hold_lasts_as_long_as_the_setting_says(
    sessions: sessionmaker[Session], database_url: str, clock: Clock
) -> None:
    services = Services(sessions, make_settings(database_url, personal_hold_minutes=5), clock=clock)
    held = services.hold_personal(SENDER, "phone", PERSON["phone"])
    clock.now += dt.timedelta(minutes=4, seconds=59)
    assert services.reveal_personal(SENDER, held.reference) == PERSON["phone"]
    clock.now += dt.timedelta(seconds=1)
    assert services.reveal_personal(SENDER, held.reference) is None


def test_release_forgets_the_conversation_s_holds_and_no_other(svc: Services) -> None:
    mine = [svc.hold_personal(SENDER, kind, PERSON[kind]) for kind in ("id_number", "phone")]
    theirs = svc.hold_personal(OTHER_SENDER, "phone", PERSON["phone"])
    assert svc.release_personal(SENDER) == 2
    assert all(svc.reveal_personal(SENDER, held.reference) is None for held in mine)
    assert svc.reveal_personal(OTHER_SENDER, theirs.reference) == PERSON["phone"]


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(
    svc: Services, sessions: sessionmaker[Session]
) -> None:
    """Someone with write access to the table cannot swap one resident's number into another's hold."""
    mine = svc.hold_personal(SENDER, "phone", PERSON["phone"])
    theirs = svc.hold_personal(SENDER, "phone", "13985001234")
    with sessions() as session:
        sealed = session.get_one(PersonalDataHold, theirs.reference).ciphertext
        session.execute(
            update(PersonalDataHold)
            .where(PersonalDataHold.reference == mine.reference)
            .values(ciphertext=sealed)
        )
        session.commit()
    assert svc.reveal_personal(SENDER, mine.reference) is None
    assert svc.reveal_personal(SENDER, theirs.reference) == "13985001234"


def test_after_the_secret_is_rotated_a_hold_is_asked_again(
    svc: Services, sessions: sessionmaker[Session], database_url: str, clock: Clock
) -> None:
    held = svc.hold_personal(SENDER, "phone", PERSON["phone"])
    rotated = Services(sessions, make_settings(database_url, secret_key="a-new-secret"), clock=clock)
    assert rotated.reveal_personal(SENDER, held.reference) is None


def test_only_id_numbers_phones_and_names_are_held(svc: Services) -> None:
    assert svc.hold_personal(SENDER, "name", "张三丰").masked == "张*丰"
    with pytest.raises(ValueError, match="unknown kind"):
        svc.hold_personal(SENDER, "address", "湄潭县永兴镇")
