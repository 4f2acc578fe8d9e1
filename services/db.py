"""Engines, sessions and migrations; nothing is created until a function here is called."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 40, busy_timeout_ms: int = 30_000
) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout, foreign keys and write-locking BEGINs."""
    if not is_sqlite(url):
        return create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True)
    database = make_url(url).database
    if not database or database == ":memory:":
        # One shared in-memory database for every thread (handy for throwaway scripts).
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    # The pool hands a connection to one thread at a time, so sqlite3's same-thread guard only gets in
    # the way (e.g. FastAPI runs sync routes in a thread pool).
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, connect_args={"check_same_thread": False}
    )
    _configure_sqlite(engine, busy_timeout_ms)
    return engine


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module, which would otherwise start
        # transactions lazily and break SAVEPOINTs; SQLAlchemy's "begin" event issues BEGIN instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
        # writes can fail with SQLITE_BUSY without waiting when another writer got in first.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at services/migrations; ``url`` overrides the settings."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.attributes["url"] = url
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``; used by the app, the CLI and the tests."""
    command.upgrade(alembic_config(url), revision)
