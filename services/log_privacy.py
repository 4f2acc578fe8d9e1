"""What log lines may say about a resident: a pseudonym for their id, their words masked.

An openid or a web sender id lets whoever holds it read that conversation's inbox, so logs carry
a keyed hash instead: the same resident gets the same pseudonym (their lines still group), and
without the services secret key it leads back to no one. Text keeps what a question is about and
loses what identifies someone: ID and phone numbers, ID tails and other digit runs, and names
introduced as such.
"""

from __future__ import annotations

import re

from pydantic import SecretStr

from core.settings import get_settings
from services.identity import keyed_hash, mask_name, mask_text

PSEUDONYM_HEX_CHARS = 12  # 48 bits: unique among any day's residents, short in a log line
# 身份证号后6位, appointment codes' digits, parts of numbers a resident splits with spaces.
_DIGIT_RUN = re.compile(r"\d{4,}[Xx]?")
_NAMED = re.compile(
    r"(我叫|姓名[是为:：]?|名字[是叫:：]?|(?:申请人|联系人)[是为:：]?)\s*([\u4e00-\u9fff·]{2,4})"
)


def pseudonym(sender_id: str, *, secret: SecretStr | None = None) -> str:
    """The log name of ``sender_id`` (``wechat:o…`` / ``web:…``), keyed with the services secret key
    (the process settings' unless ``secret`` is given)."""
    key = (secret or get_settings().services.secret_key).get_secret_value().encode()
    return keyed_hash(key, "log-sender", sender_id)[:PSEUDONYM_HEX_CHARS]


def log_text(text: str) -> str:
    """``text`` fit for a log line: 我叫张三，后六位31002X → 我叫张*，后六位******."""
    text = _NAMED.sub(lambda match: match.group(1) + mask_name(match.group(2)), mask_text(text))
    return _DIGIT_RUN.sub(lambda match: "*" * len(match.group()), text)
