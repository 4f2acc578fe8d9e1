"""Production refuses empty or placeholder secrets, naming the variable; development is unchanged."""

from __future__ import annotations

import os
from typing import Any

import pytest
from pydantic import ValidationError

from core.settings import Settings

REAL = {
    "ZY_ENVIRONMENT": "production",
    "ZY_WECHAT__TOKEN": "k7Qm2xVb9",
    "ZY_WECHAT__ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "ZY_WECHAT__APP_ID": "wx1234567890abcdef",
    "ZY_WECHAT__APP_SECRET": "3f1c0d9e8b7a6f5e4d3c2b1a09f8e7d6",
    "ZY_SERVICES__SECRET_KEY": "hash-key-4a8b0c6d2e",
    "ZY_SERVICES__DATABASE_URL": "postgresql+psycopg://zunyi@db.internal:5432/zunyi",
    "ZY_GATEWAY__REDIS_URL": "redis://cache.internal:6379/0",
    "ZY_WECHAT__REDIS_URL": "redis://cache.internal:6379/0",
    "ZY_RASA__ENDPOINTS": "endpoints.production.yml",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings read from exactly these ZY_ variables (no .env, nothing from the shell)."""
    for name in [n for n in os.environ if n.startswith("ZY_")]:
        monkeypatch.delenv(name)

    def settings(**variables: str) -> Settings:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return Settings(_env_file=None)  # type: ignore[call-arg]

    return settings


def test_development_defaults_still_load(env: Any) -> None:
    settings = env()
    assert settings.environment == "development"
    assert settings.wechat.token.get_secret_value() == "dev-wechat-token"
    assert env(ZY_ENVIRONMENT="test").environment == "test"


def test_production_with_real_secrets_loads(env: Any) -> None:
    assert env(**REAL).services.secret_key.get_secret_value() == "hash-key-4a8b0c6d2e"


def test_staff_sessions_and_lockout_are_set_from_the_environment(env: Any) -> None:
    defaults = env().staff
    assert (defaults.idle_minutes, defaults.absolute_hours, defaults.lockout_failures) == (30, 8, 5)
    staff = env(ZY_STAFF__IDLE_MINUTES="15", ZY_STAFF__LOCKOUT_FAILURES="3").staff
    assert (staff.idle_minutes, staff.lockout_failures) == (15, 3)
    with pytest.raises(ValidationError, match="idle_minutes"):
        env(ZY_STAFF__IDLE_MINUTES="0")


def test_production_with_development_defaults_names_every_variable(env: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        env(ZY_ENVIRONMENT="production")
    message = str(refused.value)
    for variable in [
        "ZY_WECHAT__TOKEN",
        "ZY_WECHAT__ENCODING_AES_KEY",
        "ZY_WECHAT__APP_ID",
        "ZY_WECHAT__APP_SECRET",
        "ZY_SERVICES__SECRET_KEY",
        "ZY_SERVICES__DATABASE_URL",
        "ZY_GATEWAY__REDIS_URL",
        "ZY_WECHAT__REDIS_URL",
        "ZY_RASA__ENDPOINTS",
    ]:
        assert variable in message
    assert "ZY_RASA__AUTH_TOKEN" not in message  # Rasa on loopback needs none
    assert "STAFF_TOKEN" not in message  # staff sign in with accounts of their own


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ZY_WECHAT__TOKEN", ""),
        ("ZY_WECHAT__TOKEN", "   "),
        ("ZY_WECHAT__TOKEN", "changethis"),
        ("ZY_WECHAT__APP_SECRET", "dev-wechat-secret"),
        ("ZY_WECHAT__APP_SECRET", "CHANGEME"),
        ("ZY_WECHAT__ENCODING_AES_KEY", ""),
        ("ZY_WECHAT__ENCODING_AES_KEY", "too-short"),
        ("ZY_WECHAT__APP_ID", "wx0000000000000000"),
        ("ZY_SERVICES__SECRET_KEY", "dev-only-not-secret"),
    ],
)
def test_one_placeholder_is_refused_by_name(env: Any, variable: str, value: str) -> None:
    with pytest.raises(ValidationError, match=variable) as refused:
        env(**{**REAL, variable: value})
    assert sum(name in str(refused.value) for name in REAL if name != "ZY_ENVIRONMENT") == 1


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ZY_SERVICES__DATABASE_URL", "sqlite:///var/services.db"),
        ("ZY_GATEWAY__REDIS_URL", ""),
        ("ZY_RASA__ENDPOINTS", "endpoints.yml"),  # SQLite tracker, in-memory locks
    ],
)
def test_production_refuses_what_replicas_cannot_share(env: Any, variable: str, value: str) -> None:
    with pytest.raises(ValidationError, match=variable):
        env(**{**REAL, variable: value})


def test_rasa_beyond_loopback_needs_its_token(env: Any) -> None:
    with pytest.raises(ValidationError, match="ZY_RASA__AUTH_TOKEN"):
        env(**REAL, ZY_RASA__HOST="0.0.0.0")
    with pytest.raises(ValidationError, match="ZY_RASA__AUTH_TOKEN"):
        env(**REAL, ZY_RASA__HOST="0.0.0.0", ZY_RASA__AUTH_TOKEN="changeme")
    assert env(**REAL, ZY_RASA__HOST="0.0.0.0", ZY_RASA__AUTH_TOKEN="r4sa-t0ken-91").rasa.auth_token


def test_gateway_reaching_a_remote_rasa_needs_the_token(env: Any) -> None:
    with pytest.raises(ValidationError, match="ZY_GATEWAY__RASA_TOKEN"):
        env(**REAL, ZY_GATEWAY__RASA_URL="http://rasa.internal:5005")
    remote = env(
        **REAL, ZY_GATEWAY__RASA_URL="http://rasa.internal:5005", ZY_GATEWAY__RASA_TOKEN="r4sa-t0ken-91"
    )
    assert remote.gateway.rasa_token is not None


def test_development_does_not_check(env: Any) -> None:
    settings = env(ZY_RASA__HOST="0.0.0.0", ZY_WECHAT__TOKEN="", ZY_GATEWAY__RASA_URL="http://rasa:5005")
    assert settings.rasa.host == "0.0.0.0"
