"""ID and mobile numbers masked wherever Rasa stores or sends what a resident typed: the tracker
store (bot/tracker_store.py) and the event broker (bot/event_broker.py) share these functions.

Loaded by Rasa from .venv-rasa: imports only Rasa and the standard library. Every 18-digit
身份证号 and mainland mobile number is masked in services.identity.mask_text's format (also when
typed with spaces, hyphens, +86 or full-width digits).
"""

from __future__ import annotations

import re
from typing import Any

from rasa.shared.core.events import Event

# A single space or hyphen may sit between digits (520302 19450301 0024, 158-8521-1234); a phone
# may carry +86 / 0086 / 86. Chinese keyboards may type all of it full-width (\d matches those
# digits too).
_GAP_CHARS = " -\u3000\uff0d"
_GAP = f"[{re.escape(_GAP_CHARS)}]?"
_ID_NUMBER = re.compile(rf"(?<!\d)\d(?:{_GAP}\d){{16}}{_GAP}[\dXxＸｘ](?![\dXxＸｘ])")
_PHONE = re.compile(
    rf"(?<!\d)((?:[+＋]|[0０]{{2}})?[8８][6６]{_GAP})?([1１]{_GAP}[3-9３-９](?:{_GAP}\d){{9}})(?!\d)"
)
# Identifiers that may contain digit runs by chance: the turn id (Rasa's message id) and the
# conversation id event brokers add to each event (analytics join on both).
_NOT_TEXT = frozenset({"message_id", "sender_id"})


def mask_numbers(text: str) -> str:
    """ID numbers keep their first 6 and last 4 characters (520302********0024), mobile numbers
    their first 3 and last 4 (158****1234); spaces and hyphens between digits stay."""
    text = _ID_NUMBER.sub(lambda m: _masked(m.group(), keep_head=6, keep_tail=4), text)
    return _PHONE.sub(lambda m: (m.group(1) or "") + _masked(m.group(2), keep_head=3, keep_tail=4), text)


def redact(value: Any) -> Any:
    """``value`` with every string inside it masked (dicts and lists at any depth)."""
    if isinstance(value, str):
        return mask_numbers(value)
    if isinstance(value, dict):
        return {key: item if key in _NOT_TEXT else redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def redact_event(event: Event) -> Event:
    """The event as it may be stored: itself when nothing in it needs masking, else a masked copy."""
    data = event.as_dict()
    masked = redact(data)
    if masked == data:
        return event
    copy = Event.from_parameters(masked)
    if copy is None:
        raise ValueError(f"cannot rebuild a masked {event.type_name} event")
    return copy


def _masked(found: str, *, keep_head: int, keep_tail: int) -> str:
    digits = sum(char not in _GAP_CHARS for char in found)
    out, index = [], 0
    for char in found:
        if char in _GAP_CHARS:
            out.append(char)
            continue
        kept = index < keep_head or index >= digits - keep_tail
        out.append(char.upper() if kept else "*")
        index += 1
    return "".join(out)
