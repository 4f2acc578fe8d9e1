"""The four processes of the system and how to start them, from the settings alone.

Used by ``python -m core.run`` (make run) and by the end-to-end tests, so both start the
stack the same way.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.rasa_model import model_path, rasa_env
from core.settings import PROJECT_ROOT, Settings


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = PROJECT_ROOT


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def action_server(settings: Settings) -> Process:
    return Process(
        "actions",
        [
            sys.executable,
            "-m",
            "rasa_sdk",
            "--actions",
            "bot.actions",
            "--port",
            str(settings.rasa.action_port),
        ],
        # rasa_sdk reads its Sanic worker count from this variable.
        {"SANIC_HOST": "127.0.0.1", "ACTION_SERVER_SANIC_WORKERS": str(settings.actions.workers)},
    )


def rasa_server(settings: Settings, endpoints: Path | None = None) -> Process:
    rasa = settings.rasa
    argv = [
        str(rasa.executable),
        "run",
        "--enable-api",
        "--cors",
        "*",
        "--interface",
        rasa.host,
        "--port",
        str(rasa.port),
        "--model",
        str(model_path(settings)),
        "--endpoints",
        str(endpoints or rasa.endpoints),
        "--credentials",
        "credentials.yml",
    ]
    if rasa.auth_token is not None:
        argv += ["--auth-token", rasa.auth_token.get_secret_value()]
    elif rasa.host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("Rasa 监听非本机地址时必须设置 ZY_RASA__AUTH_TOKEN")
    return Process(
        "rasa", argv, {k: v for k, v in rasa_env().items() if k in ("PYTHONPATH", "RASA_TELEMETRY_ENABLED")}
    )


def gateway(settings: Settings) -> Process:
    return Process("gateway", [sys.executable, "-m", "channels"])


def ingester(settings: Settings) -> Process:
    """Rasa's event broker → the analytics tables (workbench/ingest/)."""
    return Process("ingester", [sys.executable, "-m", "workbench", "ingest"])


def all_processes(settings: Settings) -> list[Process]:
    return [action_server(settings), rasa_server(settings), gateway(settings), ingester(settings)]
