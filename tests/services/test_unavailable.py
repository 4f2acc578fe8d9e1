"""A database that cannot be reached is a polite, retryable refusal, not a crash."""

from __future__ import annotations

import pytest
from svc_support import make_settings

from core.processes import free_port
from services.db import make_engine, make_sessionmaker
from services.errors import ServiceUnavailable
from services.facade import Services


def test_an_unreachable_database_is_a_chinese_try_again() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere?connect_timeout=2"
    services = Services(make_sessionmaker(make_engine(url)), make_settings(url))
    with pytest.raises(ServiceUnavailable) as refused:
        services.halls()
    assert "稍后再试" in refused.value.message and "12345" in refused.value.message
    assert services.ping() is False
