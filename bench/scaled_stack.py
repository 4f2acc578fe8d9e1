"""The scaled setting (core.scaled) for benchmarks and tests, on a PostgreSQL and a Redis of its own.

Its own servers, on free ports in a scratch directory, so a fault benchmark may stop PostgreSQL or
restart Redis without touching the machine's. Replicas, nginx and the supervisor are exactly what
``python -m core.run --replicas N`` starts; only ports, the databases and overrides differ.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from core.processes import free_port
from core.rasa_model import ensure_trained
from core.run import SCALED_CHECK_TIMEOUT
from core.scaled import ScaledLayout, prepare, scaled_processes, shared_env
from core.settings import PROJECT_ROOT, Settings
from core.stack import STARTUP_SECONDS, Overrides, Stack, environment, stack_settings, warm_up
from core.supervisor import Supervisor
from services.catalog import load_catalog
from services.facade import Services

PG_BIN = Path(
    subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip() or "/usr/bin"
)


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; as root, run its tools as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class ScratchPostgres:
    """A PostgreSQL cluster of its own (initdb, trust on loopback), started and stopped at will."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="zunyi-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        argv = [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        subprocess.run(_as_postgres(argv), check=True, capture_output=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off"
        )
        argv = [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "start",
        ]
        subprocess.run(_as_postgres(argv), check=True, capture_output=True)

    def stop(self) -> None:
        argv = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
        subprocess.run(_as_postgres(argv), check=False, capture_output=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class ScratchRedis:
    """A Redis of its own, nothing kept on disk: a restart forgets every key, as a crash would."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(self.port), "ping"], capture_output=True
                ).stdout.strip()
                == b"PONG"
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("scratch Redis did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
            self._process = None


@dataclass(frozen=True)
class ScaledStack(Stack):
    supervisor: Supervisor | None = None
    layout: ScaledLayout | None = None
    postgres: ScratchPostgres | None = None
    redis: ScratchRedis | None = None

    def pid(self, name: str) -> int | None:
        """The running pid of one replica (``rasa-1``, ``actions-2``, ``gateway-1``, ``nginx``)."""
        assert self.supervisor is not None
        return self.supervisor.status()[name].pid

    def ready(self) -> dict[str, object]:
        """/readyz through nginx: which part is down, if any."""
        try:
            response = httpx.get(f"{self.url}/readyz", timeout=10)
            body: dict[str, object] = response.json()
            return body
        except (httpx.HTTPError, ValueError):
            return {"ready": False, "checks": {"gateway": False}}


@contextmanager
def running_scaled_stack(
    directory: Path, replicas: int = 2, overrides: Overrides | None = None
) -> Iterator[ScaledStack]:
    """N copies of each process behind nginx on a scratch PostgreSQL and Redis, warmed up."""
    directory.mkdir(parents=True, exist_ok=True)
    postgres, redis = ScratchPostgres(), ScratchRedis()
    supervisor: Supervisor | None = None
    try:
        postgres.start()
        redis.start()
        shared: dict[str, dict[str, Any]] = {
            "services": {"database_url": postgres.url},
            "gateway": {"redis_url": redis.url},
            "wechat": {"redis_url": redis.url},
            "rasa": {"endpoints": PROJECT_ROOT / "endpoints.production.yml"},
        }
        for section, values in (overrides or {}).items():
            shared.setdefault(section, {}).update(values)
        settings: Settings = stack_settings(directory, shared)
        ensure_trained(settings)
        env = {k: v for k, v in environment(settings, shared).items() if k.startswith("ZY_")}
        env.update(shared_env(settings, env))
        prepare(settings, env)
        services = Services.from_settings(settings, upgrade=False)
        services.sync_catalog(load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file))
        layout = ScaledLayout.allocate(replicas, directory / "run")
        log = (directory / "scaled.log").open("a", encoding="utf-8")
        supervisor = Supervisor(
            scaled_processes(settings, layout, env), output=log, check_timeout=SCALED_CHECK_TIMEOUT
        )
        supervisor.start()
        url = f"http://127.0.0.1:{settings.gateway.port}"
        stack = ScaledStack(url, settings, services, directory, supervisor, layout, postgres, redis)
        _wait_ready(stack)
        warm_up(stack)
        yield stack
    finally:
        if supervisor is not None:
            supervisor.stop()
        redis.stop()
        postgres.remove()


def _wait_ready(stack: ScaledStack) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if stack.ready().get("ready") is True:
            return
        time.sleep(2)
    log = stack.directory / "scaled.log" if stack.directory else None
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    raise RuntimeError(f"the scaled stack did not become ready at {stack.url}\n{tail}")
