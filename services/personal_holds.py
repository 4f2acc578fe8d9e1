"""Personal identifiers held for a running form, so the Rasa tracker keeps only masks.

A form that validates a 身份证号 or phone number hands it here and puts the masked form and the
returned reference in its slot; the action that submits reveals the value again. The value is
encrypted with AES-GCM under a key derived from the services secret, bound to its row
(reference, conversation, kind) so ciphertexts cannot be swapped between rows; the conversation
is stored as a keyed hash. A hold is revealed only to the conversation that made it and only
until it expires (``ServicesSettings.personal_hold_minutes``); it is released when the form ends
and ``purge_expired`` deletes whatever a resident walked away from.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.context import Context
from services.identity import mask_id_number, mask_name, mask_phone
from services.models import PersonalDataHold
from services.sealing import seal, unseal

MASKS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "name": mask_name,
}


@dataclass(frozen=True)
class Held:
    """What a slot may keep: the reference to reveal the value by, and its masked form."""

    reference: str
    masked: str


def hold(session: Session, ctx: Context, conversation_id: str, kind: str, value: str) -> Held:
    """Hold an already validated ``value`` (``kind``: id_number, phone or name) for the conversation."""
    if kind not in MASKS:
        raise ValueError(f"unknown kind of personal data: {kind!r} (expected one of {sorted(MASKS)})")
    reference = secrets.token_urlsafe(24)
    conversation = _conversation(ctx, conversation_id)
    session.add(
        PersonalDataHold(
            reference=reference,
            conversation_hash=conversation,
            kind=kind,
            ciphertext=seal(ctx, value, _bound(reference, conversation, kind)),
            expires_at=ctx.now + dt.timedelta(minutes=ctx.settings.personal_hold_minutes),
        )
    )
    return Held(reference, MASKS[kind](value))


def reveal(session: Session, ctx: Context, conversation_id: str, reference: str) -> str | None:
    """The held value; None once expired or released, for another conversation, or when the
    secret has been rotated since (the resident is then asked again)."""
    conversation = _conversation(ctx, conversation_id)
    row = session.scalars(
        select(PersonalDataHold).where(
            PersonalDataHold.reference == reference,
            PersonalDataHold.conversation_hash == conversation,
            PersonalDataHold.expires_at > ctx.now,
        )
    ).one_or_none()
    if row is None:
        return None
    return unseal(ctx, row.ciphertext, _bound(reference, conversation, row.kind))


def release(session: Session, ctx: Context, conversation_id: str) -> int:
    """Delete every hold of the conversation (its form submitted or stopped); how many went."""
    result = session.execute(
        delete(PersonalDataHold).where(
            PersonalDataHold.conversation_hash == _conversation(ctx, conversation_id)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_expired(session: Session, ctx: Context) -> int:
    """Delete the holds past their expiry; how many went."""
    result = session.execute(delete(PersonalDataHold).where(PersonalDataHold.expires_at <= ctx.now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _conversation(ctx: Context, conversation_id: str) -> str:
    return ctx.hash("hold-conversation", conversation_id)


def _bound(reference: str, conversation: str, kind: str) -> str:
    return f"{reference}\0{conversation}\0{kind}"
