"""The stack launcher's settings reach its child processes through ZY_ variables unchanged."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.settings import Settings
from core.stack import endpoints_file, environment, stack_settings


def test_children_read_the_same_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    overrides: dict[str, dict[str, Any]] = {
        "gateway": {"turns_per_minute": 123_456, "widget_origins": ["http://gov.example"]},
        "wechat": {"token": SecretStr("tok-1"), "api_base_url": "http://127.0.0.1:9", "send_attempts": 2},
    }
    settings = stack_settings(tmp_path, overrides)
    assert settings.gateway.turns_per_minute == 123_456
    assert str(tmp_path) in settings.services.database_url
    assert len({settings.rasa.port, settings.rasa.action_port, settings.gateway.port}) == 3

    for name in [n for n in os.environ if n.startswith("ZY_")]:
        monkeypatch.delenv(name)
    for name, value in environment(settings, overrides).items():
        if name.startswith("ZY_"):
            monkeypatch.setenv(name, value)
    child = Settings(_env_file=None)  # type: ignore[call-arg]
    assert child.gateway == settings.gateway
    assert child.rasa.port == settings.rasa.port and child.rasa.action_port == settings.rasa.action_port
    assert child.services.database_url == settings.services.database_url
    assert child.wechat == settings.wechat


def test_endpoints_point_at_this_stack(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path)
    text = endpoints_file(settings, tmp_path).read_text(encoding="utf-8")
    assert f"127.0.0.1:{settings.rasa.action_port}/webhook" in text
    assert str(tmp_path / "tracker.db") in text
