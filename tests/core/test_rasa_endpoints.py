"""The purge finds Rasa's conversations where Rasa keeps them: the tracker store of the endpoints
file, with its ${VARIABLES}, turned into the same database address Rasa connects to."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url

from core.rasa_endpoints import EndpointsError, tracker_store_url
from core.settings import PROJECT_ROOT

TRACKER_DB = {
    "ZY_TRACKER_DB_HOST": "db.internal",
    "ZY_TRACKER_DB_PORT": "6432",
    "ZY_TRACKER_DB_NAME": "rasa",
    "ZY_TRACKER_DB_USER": "rasa",
    "ZY_TRACKER_DB_PASSWORD": "p@ss/w:rd",
}


def test_the_embedded_store_is_the_sqlite_file_under_the_project() -> None:
    assert (
        tracker_store_url(Path("endpoints.yml"), {})
        == f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa_tracker.db'}"
    )


def test_the_production_store_is_postgresql_from_the_variables_rasa_reads() -> None:
    url = make_url(tracker_store_url(PROJECT_ROOT / "endpoints.production.yml", TRACKER_DB) or "")
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+psycopg",
        "db.internal",
        6432,
        "rasa",
    )
    assert (url.username, url.password) == ("rasa", "p@ss/w:rd")


def test_an_unset_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(EndpointsError, match="ZY_TRACKER_DB_HOST"):
        tracker_store_url(
            Path("endpoints.production.yml"), {k: v for k, v in TRACKER_DB.items() if "HOST" not in k}
        )
    with pytest.raises(EndpointsError, match="不存在"):
        tracker_store_url(tmp_path / "missing.yml", {})


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        ("type: in_memory", None),
        (
            "type: SQL\n  dialect: postgresql\n  url: pg.internal:5433\n  db: rasa",
            "postgresql+psycopg://pg.internal:5433/rasa",
        ),
        ("type: SQL\n  url: postgresql+psycopg://u@h/rasa", "postgresql+psycopg://u@h/rasa"),
    ],
)
def test_other_stores(tmp_path: Path, store: str, expected: str | None) -> None:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  {store}\n", encoding="utf-8")
    assert tracker_store_url(endpoints, {}) == expected
