"""Checks for free-text and identifier fields, with the Chinese message the resident sees."""

from __future__ import annotations

import re
import unicodedata

from services.errors import InvalidInput

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SENDER = re.compile(r"^[A-Za-z0-9_.:@\-]{1,128}$")
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,15}$")


def clean_text(
    value: str | None, *, field: str, label: str, max_chars: int, required: bool = False
) -> str | None:
    """Trimmed text without control characters, or None when empty and optional."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value or "")).strip()
    if not text:
        if required:
            raise InvalidInput(f"请填写{label}。", field=field)
        return None
    if len(text) > max_chars:
        raise InvalidInput(f"{label}不能超过{max_chars}个字，当前{len(text)}个字。", field=field)
    return text


def check_sender(sender_id: str) -> str:
    if not _SENDER.match(sender_id or ""):
        raise InvalidInput("会话标识（sender_id）格式不正确。", field="sender_id")
    return sender_id


def check_channel(channel: str) -> str:
    if not _CHANNEL.match(channel or ""):
        raise InvalidInput(
            "渠道（channel）格式不正确，应为 wechat、web、window 这样的小写英文。", field="channel"
        )
    return channel
