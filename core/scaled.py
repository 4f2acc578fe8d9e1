"""The scaled setting: N copies of each process behind nginx, on PostgreSQL and Redis.

``python -m core.run --replicas N`` (make run-scaled). nginx (deploy/nginx/scaled.conf) listens
where the single gateway would (ZY_GATEWAY__HOST/PORT) and on the Rasa and action-server ports of
the settings, and spreads each over its replicas, which listen on free loopback ports. Rasa's
tracker store and the services share the PostgreSQL of ZY_SERVICES__DATABASE_URL; Rasa's lock
store, the gateways' limits and WeChat's state live in Redis. Every Rasa replica publishes its
events to RabbitMQ (ZY_WORKBENCH__RABBITMQ_URL), which one ingester consumes into the analytics
tables. Before any replica starts, one step migrates the services schema and creates Rasa's
tracker tables, so replicas never race for it.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.processes import Process, action_server, free_port, gateway, ingester, rasa_server
from core.rasa_model import rasa_env
from core.settings import PROJECT_ROOT, Settings, shared_state_problems
from core.supervisor import Supervised

NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx" / "scaled.conf"
NGINX_PEERS = ("127.0.0.1/32",)  # the upstream servers are 127.0.0.1:<port>
RASA_START_SECONDS = 240.0  # N Rasa servers load their models at once on a small machine
START_SECONDS = 120.0
# Creates Rasa's tracker tables once, from the same endpoints file the replicas read.
CREATE_TRACKER_TABLES = (
    "import sys;"
    "from rasa.core.tracker_store import TrackerStore;"
    "from rasa.utils.endpoints import read_endpoint_config;"
    "TrackerStore.create(read_endpoint_config(sys.argv[1], 'tracker_store'))"
)


class NotScalable(RuntimeError):
    """The settings lack what replicas must share; the message names each setting."""


@dataclass(frozen=True)
class ScaledLayout:
    """Where everything listens: the balancer's ports come from the settings, replicas' are free."""

    replicas: int
    run_dir: Path
    gateway_ports: list[int]
    rasa_ports: list[int]
    action_ports: list[int]

    @classmethod
    def allocate(cls, replicas: int, run_dir: Path) -> ScaledLayout:
        ports = [free_port() for _ in range(3 * replicas)]
        return cls(replicas, run_dir, ports[:replicas], ports[replicas : 2 * replicas], ports[2 * replicas :])


def check(settings: Settings) -> None:
    problems = shared_state_problems(settings)
    if shutil.which("nginx") is None:
        problems.append("须安装 nginx（make setup 会用 apt-get 安装）")
    broker = urlsplit(settings.workbench.rabbitmq_url.get_secret_value())
    if not _listening(broker.hostname or "127.0.0.1", broker.port or 5672):
        problems.append(
            f"RabbitMQ（{broker.hostname}:{broker.port or 5672}）连不上："
            "多副本时 Rasa 的对话事件经它交给入库进程（ZY_WORKBENCH__RABBITMQ_URL）"
        )
    if problems:
        raise NotScalable("多副本运行的配置不完整：\n" + "\n".join(problems))


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def shared_env(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables every replica gets: no migration at start, and the values Rasa's endpoints file
    (endpoints.production.yml) reads — derived from the services database and the gateway's
    Redis unless already set."""
    environ = os.environ if environ is None else environ
    database = urlsplit(settings.services.database_url)
    redis = urlsplit(settings.gateway.redis_url or "")
    rabbitmq = urlsplit(settings.workbench.rabbitmq_url.get_secret_value())
    derived = {
        "ZY_ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.rasa.action_port}/webhook",
        "ZY_TRACKER_DB_HOST": database.hostname or "127.0.0.1",
        "ZY_TRACKER_DB_PORT": str(database.port or 5432),
        "ZY_TRACKER_DB_NAME": database.path.lstrip("/"),
        "ZY_TRACKER_DB_USER": database.username or "",
        "ZY_TRACKER_DB_PASSWORD": database.password or "",
        "ZY_REDIS_HOST": redis.hostname or "127.0.0.1",
        "ZY_REDIS_PORT": str(redis.port or 6379),
        "ZY_RABBITMQ_HOST": rabbitmq.hostname or "127.0.0.1",
        "ZY_RABBITMQ_PORT": str(rabbitmq.port or 5672),
        "ZY_RABBITMQ_USER": unquote(rabbitmq.username or "guest"),
        "ZY_RABBITMQ_PASSWORD": unquote(rabbitmq.password or "guest"),
        "ZY_RABBITMQ_QUEUE": settings.workbench.rabbitmq_queue,
        # Rasa's SQL tracker store pool (its defaults, 50 + 100 per process, outgrow PostgreSQL's
        # max_connections with a few replicas).
        "SQL_POOL_SIZE": "5",
        "SQL_MAX_OVERFLOW": "5",
    }
    env = {name: environ.get(name) or value for name, value in derived.items()}
    env["ZY_SERVICES__MIGRATE_ON_START"] = "false"
    # Rasa publishes to RabbitMQ here (endpoints.production.yml): the ingester consumes it.
    env["ZY_WORKBENCH__EVENT_BROKER"] = "rabbitmq"
    return env


def nginx_config(settings: Settings, layout: ScaledLayout) -> Path:
    """deploy/nginx/scaled.conf with this layout's ports, written to the run directory."""

    def servers(ports: list[int]) -> str:
        return "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=3s;" for port in ports)

    values = {
        "user": pwd.getpwuid(os.geteuid()).pw_name,
        "group": grp.getgrgid(os.getegid()).gr_name,
        "run_dir": str(layout.run_dir),
        "busy_text": settings.gateway.busy_text(),
        "gateway_host": settings.gateway.host,
        "gateway_port": str(settings.gateway.port),
        "rasa_port": str(settings.rasa.port),
        "action_port": str(settings.rasa.action_port),
        "gateway_servers": servers(layout.gateway_ports),
        "rasa_servers": servers(layout.rasa_ports),
        "action_servers": servers(layout.action_ports),
    }
    text = NGINX_TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    layout.run_dir.mkdir(parents=True, exist_ok=True)
    path = layout.run_dir / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


def prepare(settings: Settings, env: Mapping[str, str]) -> None:
    """Migrate the services schema and create Rasa's tracker tables, once, before the replicas."""
    full_env = {**os.environ, **env}
    subprocess.run([sys.executable, "-m", "services", "migrate"], env=full_env, cwd=PROJECT_ROOT, check=True)
    rasa_python = settings.rasa.executable.parent / "python"
    subprocess.run(
        [str(rasa_python), "-c", CREATE_TRACKER_TABLES, str(settings.rasa.endpoints)],
        env={**full_env, **rasa_env()},
        cwd=PROJECT_ROOT,
        check=True,
    )


def scaled_processes(settings: Settings, layout: ScaledLayout, env: Mapping[str, str]) -> list[Supervised]:
    """Every replica and nginx, each with its health check; nginx last, so it finds replicas."""
    local = "http://127.0.0.1"
    lb_rasa, lb_actions = f"{local}:{settings.rasa.port}", f"{local}:{settings.rasa.action_port}"
    plan: list[Supervised] = []
    for number, port in enumerate(layout.action_ports, start=1):
        replica = settings.model_copy(update={"rasa": settings.rasa.model_copy(update={"action_port": port})})
        plan.append(
            Supervised(_replica(action_server(replica), number, env), f"{local}:{port}/health", START_SECONDS)
        )
    for number, port in enumerate(layout.rasa_ports, start=1):
        replica = settings.model_copy(update={"rasa": settings.rasa.model_copy(update={"port": port})})
        plan.append(
            Supervised(_replica(rasa_server(replica), number, env), f"{local}:{port}/", RASA_START_SECONDS)
        )
    for number, port in enumerate(layout.gateway_ports, start=1):
        gateway_env = {
            **env,
            "ZY_GATEWAY__HOST": "127.0.0.1",
            "ZY_GATEWAY__PORT": str(port),
            "ZY_GATEWAY__RASA_URL": lb_rasa,
            "ZY_GATEWAY__ACTION_SERVER_URL": lb_actions,
            "ZY_GATEWAY__TRUSTED_PROXIES": json.dumps(behind_nginx(settings)),
        }
        plan.append(
            Supervised(
                _replica(gateway(settings), number, gateway_env), f"{local}:{port}/healthz", START_SECONDS
            )
        )
    # One consumer: the queue hands each event to one ingester anyway, and one is plenty.
    consumer = ingester(settings)
    plan.append(Supervised(Process(consumer.name, consumer.argv, {**consumer.env, **env}, consumer.cwd)))
    config = nginx_config(settings, layout)
    nginx = Process(
        "nginx",
        ["nginx", "-e", str(layout.run_dir / "nginx-error.log"), "-c", str(config), "-g", "daemon off;"],
    )
    plan.append(Supervised(nginx, f"{local}:{settings.gateway.port}/nginx-health", START_SECONDS))
    return plan


def behind_nginx(settings: Settings) -> list[str]:
    """The proxies a gateway replica believes: nginx, which reaches it over loopback and passes the
    resident's address in X-Forwarded-For, and whatever the settings put in front of nginx."""
    return list(dict.fromkeys([*settings.gateway.trusted_proxies, *NGINX_PEERS]))


def _replica(process: Process, number: int, env: Mapping[str, str]) -> Process:
    return Process(f"{process.name}-{number}", process.argv, {**process.env, **env}, process.cwd)
