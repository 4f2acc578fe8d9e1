"""uvicorn's access log without residents' ids: the query values that name a conversation
(``/api/chat/inbox?sender_id=web:…``, ``/wechat?openid=…``) are logged as their pseudonyms."""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from uvicorn.config import LOGGING_CONFIG

from services.log_privacy import pseudonym

# Query parameter → the sender id it stands for (the same pseudonym as in the turn log).
_IDENTIFYING = {"sender_id": "{}", "openid": "wechat:{}"}


def redact_path(path: str) -> str:
    parts = urlsplit(path)
    if not parts.query:
        return path
    query = [
        (name, pseudonym(_IDENTIFYING[name].format(value)) if name in _IDENTIFYING else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return f"{parts.path}?{urlencode(query)}"


class RedactIds(logging.Filter):
    """For the ``uvicorn.access`` logger, whose arguments are (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with :class:`RedactIds` on its access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_ids"] = {"()": RedactIds}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_ids"]
    return config
