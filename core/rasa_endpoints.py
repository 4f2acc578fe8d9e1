"""Rasa's endpoints file (endpoints.yml, endpoints.production.yml) read the way Rasa reads it,
without importing Rasa: for the processes of the project's own environment that need to know
where Rasa keeps its conversations (``python -m services purge``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy import URL

from core.settings import PROJECT_ROOT, SQL_TRACKER_STORES

# ${NAME} anywhere in a value, as Rasa's YAML loader expands them (rasa/shared/utils/io.py).
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class EndpointsError(ValueError):
    """The endpoints file cannot be read as Rasa would read it; the message says why, in Chinese."""


def tracker_store_url(path: Path, environ: Mapping[str, str] | None = None) -> str | None:
    """SQLAlchemy URL of the SQL tracker store the file configures, built as Rasa's
    ``SQLTrackerStore.get_db_url`` does; None when the store is not an SQL one (in-memory, Redis…).
    A relative SQLite path is taken from the project root, where Rasa runs."""
    store = _tracker_store(path, os.environ if environ is None else environ)
    if str(store.get("type", "")).lower() not in SQL_TRACKER_STORES:
        return None
    host = store.get("url")
    if host and "://" in str(host):
        return str(host)
    dialect = str(store.get("dialect") or "sqlite")
    database = str(store.get("db") or "rasa.db")
    if dialect == "sqlite":
        file = Path(database)
        return f"sqlite:///{file if file.is_absolute() else PROJECT_ROOT / file}"
    port = store.get("port")
    if host:  # the host may carry the port, as Rasa allows
        parsed = urlsplit(f"scheme://{host}")
        host, port = parsed.hostname or host, parsed.port or port
    url = URL.create(
        # Rasa's bare "postgresql" means psycopg2; this environment has psycopg 3.
        "postgresql+psycopg" if dialect == "postgresql" else dialect,
        username=store.get("username") or None,
        password=store.get("password") or None,
        host=str(host) if host else None,
        port=int(port) if port else None,
        database=database,
        query={str(key): str(value) for key, value in (store.get("query") or {}).items()},
    )
    return url.render_as_string(hide_password=False)


def _tracker_store(path: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    """The file's tracker_store section with every ``${NAME}`` replaced from the environment."""
    path = path if path.is_absolute() else PROJECT_ROOT / path
    if not path.is_file():
        raise EndpointsError(f"Rasa 的 endpoints 文件不存在：{path}")
    section = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tracker_store") or {}
    texts = [value for value in section.values() if isinstance(value, str)]
    missing = sorted({name for text in texts for name in _VARIABLE.findall(text) if name not in environ})
    if missing:
        raise EndpointsError(f"{path.name} 的 tracker_store 引用了未设置的环境变量：{'、'.join(missing)}")
    return {
        key: _VARIABLE.sub(lambda match: environ[match.group(1)], value) if isinstance(value, str) else value
        for key, value in section.items()
    }
