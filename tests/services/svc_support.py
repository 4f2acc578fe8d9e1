"""Shared builders and constants for the services tests (imported by conftest and the tests)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from core.settings import PROJECT_ROOT, ServicesSettings
from services.applications import ApplicationRequest, ApplicationView
from services.catalog import Catalog, CatalogService, load_halls
from services.facade import Services
from services.identity import id_check_char
from services.log_privacy import pseudonym
from services.scratch import DEFAULT_POSTGRES_URL, postgres_database, postgres_problem, sqlite_database

HALLS_FILE = PROJECT_ROOT / "knowledge" / "halls.yaml"
NOW = dt.datetime(2026, 11, 26, 10, 0)  # Thursday 26 November 2026, mid-morning

TEST_SERVICES = (
    CatalogService(
        "gongjijin_tiqu",
        "住房公积金提取",
        0,
        3,
        (("city", "三楼 住房公积金窗口"), ("renhuai", "公积金窗口")),
        ("身份证", "提取申请表"),
    ),
    CatalogService(
        "getigongshanghu_sheli",
        "个体工商户设立登记",
        3,
        15,
        (("city", "二楼 市场准入窗口"),),
        ("身份证", "经营场所证明", "登记申请书"),
    ),
    CatalogService(
        "gongzufang_shenqing",
        "公共租赁住房申请",
        20,
        None,
        (("honghuagang", "住房保障窗口"),),
        ("户口簿", "收入证明"),
    ),
)
HALL_OF = {"getigongshanghu_sheli": "city", "gongjijin_tiqu": "city", "gongzufang_shenqing": "honghuagang"}

PERSON = {"name": "张三", "id_number": "11010519491231002X", "phone": "15800009119"}
OTHER = {"name": "李四", "id_number": "520302199001011230", "phone": "13985001234"}


def person(index: int) -> dict[str, str]:
    """A distinct valid resident for index 0…9999 (ID number with a correct check character)."""
    first17 = f"520303{dt.date(1960, 1, 1) + dt.timedelta(days=index * 3):%Y%m%d}{index % 1000:03d}"
    return {"name": "王五", "id_number": first17 + id_check_char(first17), "phone": f"139{index:08d}"}


@dataclass
class Clock:
    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def make_settings(url: str, **overrides: object) -> ServicesSettings:
    values: dict[str, object] = {
        "database_url": url,
        "secret_key": SecretStr("test-secret-key"),
        "slot_capacity": 3,
        "lookup_limit_per_sender": 5,
        "lookup_failures_per_number": 10,
    }
    values.update(overrides)
    return ServicesSettings.model_validate(values)


def sample_catalog() -> Catalog:
    return Catalog(load_halls(HALLS_FILE), TEST_SERVICES)


def count_rows(services: Services, model: type) -> int:
    with services.unit() as (session, _ctx):
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def submit_application(svc: Services, service_id: str, who: dict[str, str] = PERSON) -> ApplicationView:
    return svc.submit_application(
        ApplicationRequest(
            service_id=service_id,
            applicant_name=who["name"],
            id_number=who["id_number"],
            phone=who["phone"],
            hall_id=HALL_OF[service_id],
        ),
        handler="窗口申请",
    )


def require_postgres_or_skip() -> str:
    """The admin URL; skips (or fails under ZY_REQUIRE_POSTGRES=1) when the server is not reachable."""
    admin_url = os.environ.get("ZY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    problem = postgres_problem(admin_url)
    if problem:
        if os.environ.get("ZY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{problem} (ZY_REQUIRE_POSTGRES=1: PostgreSQL is required here)", pytrace=False)
        pytest.skip(f"PostgreSQL variant skipped: {problem}")
    return admin_url


@contextmanager
def scratch_database(backend: str, directory: Path) -> Iterator[str]:
    """A fresh migrated database of ``backend``, removed afterwards."""
    if backend == "sqlite":
        with sqlite_database(directory) as url:
            yield url
    else:
        with postgres_database(require_postgres_or_skip()) as url:
            yield url


def audited_as(svc: Services, sender_id: str) -> str:
    """How the audit log names a resident: their channel and the pseudonym their log lines carry."""
    channel, _, _ = sender_id.partition(":")
    return f"{channel}:{pseudonym(sender_id, secret=svc.settings.secret_key)}"
