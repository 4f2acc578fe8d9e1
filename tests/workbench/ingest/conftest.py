"""Fixtures of the ingester tests: events recorded from a real conversation, the assembler built
from the real knowledge, and a services database per backend (SQLite and PostgreSQL) that each
test starts empty."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import delete

sys.path.insert(0, str(Path(__file__).parents[2] / "services"))  # svc_support, whatever the import mode
sys.path.insert(0, str(Path(__file__).parent))  # ingest_support

from svc_support import make_settings, scratch_database

from core.settings import Settings
from services.db import make_engine, make_sessionmaker
from services.facade import Services
from services.models import AnalyticsCursor, AnalyticsTurn
from workbench.ingest.runner import assembler_for
from workbench.ingest.turns import TurnAssembler

BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]


@cache
def _assembler() -> TurnAssembler:
    settings = Settings(_env_file=None, services=make_settings("sqlite://"))  # type: ignore[call-arg]
    return assembler_for(settings)


@pytest.fixture
def assembler() -> TurnAssembler:
    return _assembler()


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(str(request.param), tmp_path_factory.mktemp("ingest-db")) as url:
        yield url


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    engine = make_engine(database_url, pool_size=2, max_overflow=2)
    services = Services(make_sessionmaker(engine), make_settings(database_url))
    yield services
    with services.unit() as (session, _ctx):
        session.execute(delete(AnalyticsTurn))
        session.execute(delete(AnalyticsCursor))
    engine.dispose()
