"""Alembic environment: the URL comes from migrate(url), alembic.ini, or the settings, in that order."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from core.settings import get_settings
from services.db import is_sqlite, make_engine
from services.models import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK = 72_420_017  # the PostgreSQL advisory lock key of this schema's migrations


def _url() -> str:
    return (
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or get_settings().services.database_url
    )


def run_offline() -> None:
    url = _url()
    context.configure(
        url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=is_sqlite(url)
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    url = _url()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection, target_metadata=target_metadata, render_as_batch=is_sqlite(url)
            )
            with context.begin_transaction():
                if not is_sqlite(url):
                    # Processes starting together wait here and then find the schema at head.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
