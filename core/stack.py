"""Start the whole stack (action server, Rasa, gateway, ingester) on free ports for tests and
benchmarks.

The processes and their commands are the ones ``make run`` uses (core.processes); only ports,
the services database, the Rasa tracker store and any setting overrides differ, and those reach
the child processes as ``ZY_`` environment variables, exactly as an operator would set them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr

from core.processes import Process, action_server, free_port, gateway, ingester, rasa_server
from core.rasa_model import ensure_trained
from core.settings import IpLimitSettings, Settings, get_settings
from services.catalog import load_catalog
from services.facade import Services

STARTUP_SECONDS = 300
STARTUP_RESTARTS = 2
STOP_SECONDS = 20
# Setting sections of the stack that tests and benchmarks may override.
Overrides = Mapping[str, Mapping[str, Any]]
# Limits that stop scripts: every simulated resident comes from 127.0.0.1 and books with the same
# test phone, so load benchmarks and end-to-end tests lift them (their own tests check them).
UNTHROTTLED: Overrides = {
    "gateway": {
        "turns_per_minute": 1_000_000,
        "ip_limits": {family: "1000000/minute" for family in IpLimitSettings.model_fields},
    },
    "services": {"bookings_per_phone_per_day": 1_000_000},
}


@dataclass(frozen=True)
class Stack:
    url: str
    settings: Settings
    services: Services
    directory: Path | None = None

    @property
    def rasa_url(self) -> str:
        return self.settings.gateway.rasa_url

    def chat(self, sender: str, text: str, channel: str = "web") -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/api/chat", json={"sender_id": sender, "text": text, "channel": channel}, timeout=60
        )
        response.raise_for_status()
        reply: dict[str, Any] = response.json()
        return reply

    def log(self, name: str) -> str:
        """The output of one process so far (``actions``, ``rasa`` or ``gateway``)."""
        if self.directory is None:
            return ""
        return (self.directory / f"{name}.log").read_text(encoding="utf-8", errors="replace")


def stack_settings(
    directory: Path, overrides: Overrides | None = None, base: Settings | None = None
) -> Settings:
    """The settings of a stack in ``directory``: free ports, fresh SQLite, plus ``overrides``."""
    base = base or get_settings()
    rasa_port, action_port, gateway_port = free_port(), free_port(), free_port()
    sections: dict[str, dict[str, Any]] = {
        "rasa": {"port": rasa_port, "action_port": action_port},
        "gateway": {
            "port": gateway_port,
            "rasa_url": f"http://127.0.0.1:{rasa_port}",
            "action_server_url": f"http://127.0.0.1:{action_port}",
        },
        "services": {"database_url": f"sqlite:///{directory / 'services.db'}"},
        "wechat": {"failed_sends_file": directory / "wechat-failed-sends.jsonl"},
        "workbench": {"events_db": directory / "rasa_events.db"},
    }
    for section, values in (overrides or {}).items():
        sections.setdefault(section, {}).update(values)
    update = {
        section: type(getattr(base, section)).model_validate(
            {**getattr(base, section).model_dump(), **values}
        )
        for section, values in sections.items()
    }
    return base.model_copy(update=update)


def environment(settings: Settings, overrides: Overrides | None = None) -> dict[str, str]:
    """``ZY_`` variables that make a child process read ``settings`` (ports, URLs, overrides)."""
    values: dict[str, dict[str, Any]] = {
        "rasa": {"port": None, "action_port": None},
        "gateway": {"port": None, "rasa_url": None, "action_server_url": None},
        "services": {"database_url": None},
        "wechat": {"failed_sends_file": None},
        "workbench": {"events_db": None},
    }
    for section, fields in (overrides or {}).items():
        values.setdefault(section, {}).update(dict.fromkeys(fields))
    env = {**os.environ}
    for section, fields in values.items():
        model = getattr(settings, section)
        for name in fields:
            env[f"ZY_{section.upper()}__{name.upper()}"] = _env_value(getattr(model, name))
    return env


def _env_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, str | Path | int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return json.dumps(value, ensure_ascii=False, default=str)


def endpoints_file(settings: Settings, directory: Path) -> Path:
    """Rasa endpoints: this stack's action server, a tracker store and an SQL event broker of
    its own (the file the ingester reads)."""
    path = directory / "endpoints.yml"
    path.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{settings.rasa.action_port}/webhook\n"
        f"tracker_store:\n  type: bot.tracker_store.RedactingSQLTrackerStore\n  dialect: sqlite\n"
        f"  db: {directory / 'tracker.db'}\n"
        "lock_store:\n  type: in_memory\n"
        f"event_broker:\n  type: bot.event_broker.RedactingSQLEventBroker\n  dialect: sqlite\n"
        f"  db: {settings.workbench.events_db}\n",
        encoding="utf-8",
    )
    return path


def _start(process: Process, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # A session of its own: Sanic (the action server) SIGKILLs its whole process group when a
    # worker misses its 30 s startup deadline, which would take the test or benchmark with it.
    with log.open("ab") as output:
        return subprocess.Popen(
            process.argv,
            cwd=process.cwd,
            env={**env, **process.env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_ready(
    url: str,
    plan: list[Process],
    env: dict[str, str],
    logs: list[Path],
    processes: list[subprocess.Popen[bytes]],
) -> None:
    """Until /readyz says yes. A process that exits while starting is started again, up to
    STARTUP_RESTARTS times: on a loaded machine Sanic gives up on a worker after 30 s."""
    deadline = time.monotonic() + STARTUP_SECONDS
    restarts = 0
    while time.monotonic() < deadline:
        exited = [index for index, process in enumerate(processes) if process.poll() is not None]
        if restarts + len(exited) > STARTUP_RESTARTS:
            break
        for index in exited:
            restarts += 1
            _signal_group(processes[index], signal.SIGKILL)  # workers it may have left behind
            processes[index] = _start(plan[index], env, logs[index])
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)
    raise RuntimeError(f"the stack did not become ready at {url}\n{tails}")


def warm_up(stack: Stack) -> None:
    """The action server loads the model and index on its first question; wait that out once."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        reply = stack.chat("web:warm-up", "高龄补贴要带哪些材料")
        if "系统繁忙" not in " ".join(m.get("text") or "" for m in reply["messages"]):
            return
        time.sleep(1)
    raise RuntimeError("the action server never answered a knowledge question")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group (servers stop their own workers), SIGKILL what is left."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
        _signal_group(process, signal.SIGKILL)  # workers that outlived their parent


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


@contextmanager
def running_stack(directory: Path, overrides: Overrides | None = None) -> Iterator[Stack]:
    """The four processes on free ports with a fresh database in ``directory``, warmed up.

    ``overrides`` maps setting sections to values, e.g. ``{"gateway": {"turns_per_minute": 10_000}}``;
    they apply to this process's ``Stack.settings`` and reach the children as ``ZY_`` variables.
    """
    directory.mkdir(parents=True, exist_ok=True)
    settings = stack_settings(directory, overrides)
    ensure_trained(settings)
    services = Services.from_settings(settings)
    services.sync_catalog(load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file))
    env = environment(settings, overrides)
    plan = [
        action_server(settings),
        rasa_server(settings, endpoints_file(settings, directory)),
        gateway(settings),
        ingester(settings),
    ]
    logs = [directory / f"{process.name}.log" for process in plan]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for process, log in zip(plan, logs, strict=True):
            processes.append(_start(process, env, log))
        url = f"http://127.0.0.1:{settings.gateway.port}"
        _wait_ready(url, plan, env, logs, processes)
        ready = Stack(url, settings, services, directory)
        warm_up(ready)
        yield ready
    finally:
        _stop(processes)
