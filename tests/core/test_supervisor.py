"""The supervisor against real child processes: killed, deaf, never ready, and stopped."""

from __future__ import annotations

import io
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx

from core.processes import Process
from core.supervisor import Supervised, Supervisor

T = TypeVar("T")

# Answers GET /health with the pid of the process that serves the port.
SERVER = """
import http.server, os, signal, sys, time

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = str(os.getpid()).encode()
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

def serve():
    print("serving", flush=True)
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()

mode = sys.argv[2]
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode == "serve":
    serve()
elif os.fork() == 0:
    serve()
else:
    # Like Sanic's main process: the port lives in a worker, and nobody watches the worker.
    while True:
        time.sleep(60)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server(name: str, port: int, mode: str = "serve", grace: float = 10.0) -> Supervised:
    """``mode``: serve; fork (a worker serves, the parent sleeps); stubborn (fork, ignore SIGTERM)."""
    process = Process(name, [sys.executable, "-c", SERVER, str(port), mode])
    return Supervised(process, f"http://127.0.0.1:{port}/health", grace)


def serving_pid(port: int) -> int | None:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5)
    except httpx.HTTPError:
        return None
    return int(response.text) if response.status_code == 200 else None


def wait_for(probe: Callable[[], T | None], seconds: float, what: str) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value is not None and value is not False:
            return value
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds} s for {what}")


def alive(pid: int) -> bool:
    """Running and not a zombie (an orphan's zombie waits for whoever reaps it, not for us)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@contextmanager
def supervising(*supervised: Supervised) -> Iterator[tuple[Supervisor, io.StringIO]]:
    output = io.StringIO()
    supervisor = Supervisor(
        list(supervised),
        check_interval=0.2,
        check_timeout=0.5,
        failures_before_restart=3,
        stop_seconds=1.0,
        output=output,
    )
    supervisor.start()
    try:
        yield supervisor, output
    finally:
        supervisor.stop()


def test_a_killed_process_is_started_again() -> None:
    port = free_port()
    with supervising(server("web", port)) as (supervisor, output):
        first = wait_for(lambda: serving_pid(port), 10, "the server to answer")
        os.kill(first, signal.SIGKILL)

        second = wait_for(lambda: (pid := serving_pid(port)) != first and pid, 5, "a new server")

        assert second != first
        assert supervisor.status()["web"].restarts == 1
        assert "web 已退出（SIGKILL），重启（第 1 次，等待 1 s）" in output.getvalue()
        assert "web        | serving" in output.getvalue()


def test_a_deaf_process_group_is_replaced() -> None:
    port = free_port()
    with supervising(server("actions", port, "fork")) as (supervisor, output):
        worker = wait_for(lambda: serving_pid(port), 10, "the worker to answer")
        wait_for(lambda: supervisor.status()["actions"].healthy, 2, "a healthy status")
        parent = supervisor.status()["actions"].pid
        assert parent is not None and parent != worker

        os.kill(worker, signal.SIGKILL)
        time.sleep(0.3)
        assert alive(parent), "the parent must outlive its worker, or this test proves nothing"
        assert serving_pid(port) is None

        new_worker = wait_for(lambda: serving_pid(port), 8, "the group to be restarted")

        assert new_worker != worker
        assert not alive(parent)
        assert supervisor.status()["actions"].restarts == 1
        assert "actions 无响应（3 次健康检查失败），重启（第 1 次，等待 1 s）" in output.getvalue()


def test_a_process_never_ready_is_restarted_after_its_grace() -> None:
    port = free_port()  # nothing listens here
    sleeper = Process("rasa", [sys.executable, "-c", "import time; time.sleep(60)"])
    with supervising(Supervised(sleeper, f"http://127.0.0.1:{port}/", 0.5)) as (supervisor, output):
        wait_for(lambda: supervisor.status()["rasa"].restarts >= 1, 5, "a restart")

        assert "rasa 启动 0.5 s 内未响应，重启（第 1 次，等待 1 s）" in output.getvalue()


def test_stop_leaves_no_process_behind() -> None:
    ports = [free_port() for _ in range(3)]
    plan = [
        server("plain", ports[0]),
        server("forked", ports[1], "fork"),
        server("stubborn", ports[2], "stubborn"),
    ]
    with supervising(*plan) as (supervisor, _):
        servers = [wait_for(partial(serving_pid, port), 10, f"port {port}") for port in ports]
        wait_for(lambda: all(s.healthy for s in supervisor.status().values()), 2, "all healthy")
        parents = [status.pid for status in supervisor.status().values()]
        pids = {*servers, *(pid for pid in parents if pid is not None)}
        assert len(pids) == 5

        started = time.monotonic()
        supervisor.stop()

        assert time.monotonic() - started < 5
        wait_for(lambda: not any(alive(pid) for pid in pids), 2, "every process to be gone")
        assert all(serving_pid(port) is None for port in ports)
        assert all(status.pid is None for status in supervisor.status().values())
