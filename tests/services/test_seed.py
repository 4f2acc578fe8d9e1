from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from svc_support import count_rows

import services.__main__ as cli
from core.settings import ServicesSettings, Settings, get_settings
from services.applications import count_by_status
from services.catalog import Catalog, load_catalog
from services.errors import NotConfigured
from services.facade import Services
from services.models import Application, AppStatus
from services.seed import SeedRefused, seed


@pytest.fixture(scope="module")
def knowledge_catalog() -> Catalog:
    settings = get_settings().knowledge
    catalog = load_catalog(settings.guides_dir, settings.halls_file)
    if len(catalog.services) < 2:
        pytest.skip("knowledge/guides has fewer than two valid guides yet")
    return catalog


def test_demo_data_covers_every_status_and_every_service(svc: Services, knowledge_catalog: Catalog) -> None:
    report = seed(svc, knowledge_catalog, count=200, environment="development")
    assert report.applications == 200
    with svc.unit() as (session, _ctx):
        by_status = count_by_status(session)
    assert set(by_status) == set(AppStatus)
    assert sum(by_status.values()) == 200
    for status, (number, id_tail, phone) in report.samples.items():
        view = svc.lookup_application(number, id_tail, f"web:demo-{status.value}")
        assert view is not None and view.status is status
        assert svc.lookup_application(number, phone, f"web:demo-{status.value}") is not None
    assert seed(svc, knowledge_catalog, count=200, environment="development").skipped  # idempotent


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="ZY_SERVICES__SECRET_KEY"):
        Settings(environment="production", services=ServicesSettings(database_url="sqlite://"))
    # Settings changed after validation (model_copy skips validators) are still refused here.
    development = Settings(services=ServicesSettings(database_url="sqlite://"))
    settings = development.model_copy(update={"environment": "production"})
    with pytest.raises(NotConfigured, match="ZY_SERVICES__SECRET_KEY"):
        Services.from_settings(settings, upgrade=False)
    fine = Settings(
        services=ServicesSettings(database_url="sqlite://", secret_key=SecretStr("a-real-secret")),
    ).model_copy(update={"environment": "production"})
    assert (
        Services.from_settings(fine, upgrade=False).settings.secret_key.get_secret_value() == "a-real-secret"
    )


def test_seeding_refuses_production(
    svc: Services,
    knowledge_catalog: Catalog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SeedRefused, match="生产环境"):
        seed(svc, knowledge_catalog, count=10, environment="production")
    assert count_rows(svc, Application) == 0

    # `make run` runs `python -m services seed`: in production it stops there, with the reason.
    database = f"sqlite:///{tmp_path / 'production.db'}"
    production = Settings(
        services=ServicesSettings(database_url=database, secret_key=SecretStr("a-real-secret"))
    ).model_copy(update={"environment": "production"})
    monkeypatch.setattr(cli, "get_settings", lambda: production)
    assert cli.main(["seed", "--count", "10"]) != 0
    assert "生产环境（ZY_ENVIRONMENT=production）不能写入演示数据" in capsys.readouterr().err
    assert count_rows(Services.from_settings(production), Application) == 0
