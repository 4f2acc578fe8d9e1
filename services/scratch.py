"""Throwaway databases for tests and benchmarks: a fresh SQLite file or PostgreSQL database, migrated."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from services.db import migrate

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_problem(admin_url: str) -> str | None:
    """None when PostgreSQL at ``admin_url`` accepts connections, else why not."""
    engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver or network error means "not usable here"
        where = make_url(admin_url).render_as_string(hide_password=True)
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return f"PostgreSQL at {where} is not reachable ({first_line})"
    finally:
        engine.dispose()
    return None


@contextmanager
def postgres_database(admin_url: str, prefix: str = "zy_test") -> Iterator[str]:
    """A new uniquely named database next to ``admin_url``'s, migrated to head; dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    path = directory / f"services-{secrets.token_hex(4)}.db"
    url = f"sqlite:///{path}"
    migrate(url)
    try:
        yield url
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
