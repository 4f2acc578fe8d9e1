"""One storage suite, run against SQLite and PostgreSQL.

PostgreSQL: ``ZY_TEST_POSTGRES_URL`` (default postgres@127.0.0.1:5432/test) is only used to create
a fresh uniquely named database per test session, dropped at the end, so parallel runs never
collide. When the server is unreachable those tests are skipped with the reason, unless
``ZY_REQUIRE_POSTGRES=1`` (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).parent))  # svc_support, whatever pytest's import mode

from svc_support import Clock, make_settings, sample_catalog, scratch_database

from services.db import make_engine
from services.facade import Services

BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(backend, tmp_path_factory.mktemp("services-db")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=5, max_overflow=5)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions inside one outer transaction rolled back after the test; their commits only
    release savepoints, so each test starts from the migrated, empty schema."""
    connection = engine.connect()
    outer = connection.begin()
    yield sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    outer.rollback()
    connection.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(sessions: sessionmaker[Session], database_url: str, clock: Clock) -> Services:
    services = Services(sessions, make_settings(database_url), clock=clock)
    services.sync_catalog(sample_catalog())
    return services
