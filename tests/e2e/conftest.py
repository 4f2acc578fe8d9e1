"""The real stack for end-to-end tests: action server, Rasa server and gateway on free ports.

Everything runs as in production (same commands as `make run`, from core.processes), with a
fresh SQLite database and tracker store per test session.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.processes import Process, action_server, gateway, rasa_server
from core.rasa_model import ensure_trained
from core.settings import GatewaySettings, RasaSettings, ServicesSettings, Settings, get_settings
from services.catalog import load_catalog
from services.facade import Services

STARTUP_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    url: str
    settings: Settings
    services: Services

    def chat(self, sender: str, text: str) -> dict:
        response = httpx.post(
            f"{self.url}/api/chat", json={"sender_id": sender, "text": text, "channel": "web"}, timeout=60
        )
        response.raise_for_status()
        return response.json()


def _environment(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "ZY_RASA__PORT": str(settings.rasa.port),
        "ZY_RASA__ACTION_PORT": str(settings.rasa.action_port),
        "ZY_GATEWAY__PORT": str(settings.gateway.port),
        "ZY_GATEWAY__RASA_URL": settings.gateway.rasa_url,
        "ZY_GATEWAY__ACTION_SERVER_URL": settings.gateway.action_server_url,
        "ZY_SERVICES__DATABASE_URL": settings.services.database_url,
    }


def _endpoints(settings: Settings, directory: Path) -> Path:
    path = directory / "endpoints.yml"
    path.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{settings.rasa.action_port}/webhook\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {directory / 'tracker.db'}\n"
        "lock_store:\n  type: in_memory\n",
        encoding="utf-8",
    )
    return path


def _start(process: Process, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        process.argv,
        cwd=process.cwd,
        env={**env, **process.env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _wait_ready(url: str, processes: list[subprocess.Popen], logs: list[Path]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            break
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)
    raise RuntimeError(f"the stack did not become ready at {url}\n{tails}")


def _warm_up(stack: Stack) -> None:
    """The action server loads the model and index on its first question; wait that out once."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        reply = stack.chat("web:warm-up", "高龄补贴要带哪些材料")
        if "系统繁忙" not in " ".join(m.get("text") or "" for m in reply["messages"]):
            return
    raise RuntimeError("the action server never answered a knowledge question")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = get_settings()
    directory = tmp_path_factory.mktemp("stack")
    rasa_port, action_port, gateway_port = _free_port(), _free_port(), _free_port()
    settings = base.model_copy(
        update={
            "rasa": RasaSettings(**{**base.rasa.model_dump(), "port": rasa_port, "action_port": action_port}),
            "gateway": GatewaySettings(
                **{
                    **base.gateway.model_dump(),
                    "port": gateway_port,
                    "rasa_url": f"http://127.0.0.1:{rasa_port}",
                    "action_server_url": f"http://127.0.0.1:{action_port}",
                }
            ),
            "services": ServicesSettings(
                **{**base.services.model_dump(), "database_url": f"sqlite:///{directory / 'services.db'}"}
            ),
        }
    )
    ensure_trained(settings)
    services = Services.from_settings(settings)
    services.sync_catalog(load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file))
    env = _environment(settings)
    plan = [
        action_server(settings),
        rasa_server(settings, _endpoints(settings, directory)),
        gateway(settings),
    ]
    logs = [directory / f"{process.name}.log" for process in plan]
    processes = [_start(process, env, log) for process, log in zip(plan, logs, strict=True)]
    url = f"http://127.0.0.1:{gateway_port}"
    try:
        _wait_ready(url, processes, logs)
        ready = Stack(url, settings, services)
        _warm_up(ready)
        yield ready
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
