"""The migrations build exactly the tables the models describe, and 0003 keeps existing transcripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from svc_support import scratch_database

from services.db import alembic_config, migrate
from services.models import Base

BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrated_schema_matches_the_models(backend: str, tmp_path: Path) -> None:
    with scratch_database(backend, tmp_path) as url:
        engine = create_engine(url)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        engine.dispose()
    assert differences == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_handoff_transcripts_become_lines_and_the_audit_log_stays_append_only(
    backend: str, tmp_path: Path
) -> None:
    with scratch_database(backend, tmp_path) as url:
        command.downgrade(alembic_config(url), "0002")
        engine = create_engine(url)
        transcript = [
            {"role": "user", "text": "我要办社保卡", "at": "2026-11-01T10:00:00"},
            {"role": "bot", "text": "好的"},
        ]
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO handoffs (id, ticket, sender_id, channel, transcript, status, created_at) "
                    "VALUES (1, 'RG1', 'web:a', 'web', :transcript, 'waiting', '2026-11-01 10:00:00')"
                ),
                {"transcript": json.dumps(transcript, ensure_ascii=False)},
            )
            connection.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, result) "
                    "VALUES ('2026-11-01 10:00:00', 'tester', 'handoff.open', 'ok')"
                )
            )
        migrate(url)
        with engine.connect() as connection:
            lines = connection.execute(text("SELECT role, text FROM handoff_lines ORDER BY id")).all()
        assert [tuple(line) for line in lines] == [("user", "我要办社保卡"), ("bot", "好的")]
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text("UPDATE audit_log SET actor = 'someone else'"))
        engine.dispose()
