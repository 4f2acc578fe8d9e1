"""The scaled setting refuses what replicas cannot share and writes an nginx configuration nginx accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.scaled import NotScalable, ScaledLayout, check, nginx_config, scaled_processes, shared_env
from core.settings import (
    PROJECT_ROOT,
    GatewaySettings,
    RasaSettings,
    ServicesSettings,
    Settings,
    WeChatSettings,
    WorkbenchSettings,
)


def _scaled_settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        services=ServicesSettings(database_url="postgresql+psycopg://zunyi:pw@db.internal:5433/zunyi"),
        gateway=GatewaySettings(redis_url="redis://cache.internal:6380/0"),
        wechat=WeChatSettings(redis_url="redis://cache.internal:6380/0"),
        rasa=RasaSettings(endpoints=PROJECT_ROOT / "endpoints.production.yml"),
    )


def test_the_embedded_defaults_are_refused_naming_each_setting() -> None:
    with pytest.raises(NotScalable) as refused:
        check(Settings(_env_file=None))  # type: ignore[call-arg]
    for variable in (
        "ZY_SERVICES__DATABASE_URL",
        "ZY_GATEWAY__REDIS_URL",
        "ZY_WECHAT__REDIS_URL",
        "ZY_RASA__ENDPOINTS",
    ):
        assert variable in str(refused.value)


def test_rasa_reads_its_tracker_and_lock_store_from_the_shared_settings() -> None:
    env = shared_env(_scaled_settings(), environ={})
    assert (env["ZY_TRACKER_DB_HOST"], env["ZY_TRACKER_DB_PORT"], env["ZY_TRACKER_DB_NAME"]) == (
        "db.internal",
        "5433",
        "zunyi",
    )
    assert (env["ZY_REDIS_HOST"], env["ZY_REDIS_PORT"]) == ("cache.internal", "6380")
    assert env["ZY_SERVICES__MIGRATE_ON_START"] == "false"
    assert (
        shared_env(_scaled_settings(), environ={"ZY_TRACKER_DB_NAME": "rasa"})["ZY_TRACKER_DB_NAME"] == "rasa"
    )


def test_an_unreachable_rabbitmq_is_refused_naming_the_setting() -> None:
    nowhere = WorkbenchSettings(rabbitmq_url=SecretStr("amqp://guest:guest@127.0.0.1:1/%2F"))
    with pytest.raises(NotScalable) as refused:
        check(_scaled_settings().model_copy(update={"workbench": nowhere}))
    assert "ZY_WORKBENCH__RABBITMQ_URL" in str(refused.value)


def test_rasa_publishes_its_events_to_the_rabbitmq_the_ingester_consumes() -> None:
    settings = _scaled_settings().model_copy(
        update={
            "workbench": WorkbenchSettings(
                rabbitmq_url=SecretStr("amqp://zunyi:p%40ss@mq.internal:5673/%2F"), rabbitmq_queue="events"
            )
        }
    )
    env = shared_env(settings, environ={})
    assert (env["ZY_RABBITMQ_HOST"], env["ZY_RABBITMQ_PORT"]) == ("mq.internal", "5673")
    assert (env["ZY_RABBITMQ_USER"], env["ZY_RABBITMQ_PASSWORD"], env["ZY_RABBITMQ_QUEUE"]) == (
        "zunyi",
        "p@ss",
        "events",
    )
    endpoints = (PROJECT_ROOT / "endpoints.production.yml").read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{(ZY_RABBITMQ_\w+)\}", endpoints)) <= set(env)


def test_every_replica_listens_on_its_own_port_behind_nginx(tmp_path: Path) -> None:
    settings = _scaled_settings()
    layout = ScaledLayout.allocate(2, tmp_path / "run")
    plan = scaled_processes(settings, layout, shared_env(settings, environ={}))
    names = [item.name for item in plan]
    assert names == [
        "actions-1",
        "actions-2",
        "rasa-1",
        "rasa-2",
        "gateway-1",
        "gateway-2",
        "ingester",
        "nginx",
    ]
    # One consumer of Rasa's RabbitMQ events, whatever the number of replicas.
    assert plan[6].process.env["ZY_WORKBENCH__EVENT_BROKER"] == "rabbitmq"
    ports = layout.gateway_ports + layout.rasa_ports + layout.action_ports
    assert len(set(ports)) == 6
    gateway = plan[4].process.env
    assert gateway["ZY_GATEWAY__PORT"] == str(layout.gateway_ports[0])
    assert gateway["ZY_GATEWAY__RASA_URL"].endswith(f":{settings.rasa.port}")  # through nginx
    config = (tmp_path / "run" / "nginx.conf").read_text()
    for port in ports:
        assert f"server 127.0.0.1:{port} " in config
    assert re.search(r"\{\{\w+\}\}", config) is None  # every placeholder filled in


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (scripts/setup_nginx.sh)")
def test_nginx_accepts_the_written_configuration(tmp_path: Path) -> None:
    layout = ScaledLayout.allocate(2, tmp_path / "run")
    path = nginx_config(_scaled_settings(), layout)
    result = subprocess.run(
        ["nginx", "-t", "-e", str(tmp_path / "run" / "error.log"), "-c", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
