"""Slots that stand for a 身份证号 or phone number without holding it.

Rasa keeps every slot value in its tracker store, and the tracker store masks whole numbers on
the way in (bot/tracker_store.py): a form that kept the number itself would read back a mask on
the next turn. So the validators hold the number in the services database (encrypted, for
``ServicesSettings.personal_hold_minutes``) and put ``{"masked": …, "ref": …}`` in the slot;
the action that submits reveals it from the reference. The value is revealed only to the same
conversation, and forgotten when the task ends.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker

from bot.actions.backend import get_services
from services.errors import ServiceUnavailable
from services.identity import mask_text

logger = logging.getLogger(__name__)
WHAT = {"id_number": "身份证号", "phone": "手机号", "name": "姓名"}


def hold(tracker: Tracker, kind: str, value: str) -> dict[str, str]:
    """The slot value for a validated ``value`` of ``kind`` (id_number, phone or name)."""
    held = get_services().hold_personal(tracker.sender_id, kind, value)
    return {"masked": held.masked, "ref": held.reference}


def is_held(value: Any) -> bool:
    """Whether a slot value is already held: Rasa validates the slots a form starts with again."""
    return isinstance(value, dict) and "ref" in value


def reveal(tracker: Tracker, slot: str) -> str | None:
    """The number behind ``slot``; None when it has expired (the resident is asked again)."""
    value = tracker.get_slot(slot)
    if not is_held(value):
        return None
    return get_services().reveal_personal(tracker.sender_id, str(value["ref"]))


def shown(value: Any) -> str:
    """What the resident sees of a held slot: its mask."""
    return str(value["masked"]) if is_held(value) else mask_text(str(value or ""))


def expired(*kinds: str) -> str:
    """Why a number has to be given again; the caller says how."""
    minutes = get_services().settings.personal_hold_minutes
    return f"为保护您的个人信息，{'和'.join(WHAT[kind] for kind in kinds)}只保留{minutes}分钟，已经清除。"


def forget(tracker: Tracker) -> None:
    """Release what the conversation's form held. Stopping or finishing still works while the
    database is down: the holds then expire on their own."""
    try:
        get_services().release_personal(tracker.sender_id)
    except ServiceUnavailable:
        logger.warning("personal-data holds not released; they expire on their own")
