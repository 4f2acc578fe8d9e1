"""Keep processes running: restart one that exits or stops answering its health check.

Each process runs in a session of its own, so its whole process group can be killed: the
action server (Sanic) keeps its port in a worker subprocess, and when that worker dies the
parent stays alive but deaf. Output lines are prefixed ``HH:MM:SS name | `` like honcho's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import IO, TextIO
from urllib.parse import urlsplit

import httpx

from core.processes import Process

LOG_NAME = "supervisor"


@dataclass(frozen=True)
class Supervised:
    """A process and how to judge it.

    ``health_url`` is fetched with GET; a 2xx answer means healthy. Without one, a process is
    judged only by whether it runs. A process not yet healthy is not judged deaf before
    ``start_grace_seconds`` have passed (Rasa loads its model before it opens its port).
    """

    process: Process
    health_url: str | None = None
    start_grace_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.health_url is not None:
            url = urlsplit(self.health_url)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ValueError(f"{self.name}: health_url must be an http(s) URL, not {self.health_url!r}")
        if self.start_grace_seconds < 0:
            raise ValueError(f"{self.name}: start_grace_seconds must not be negative")

    @property
    def name(self) -> str:
        return self.process.name


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int | None
    healthy: bool
    restarts: int


class _Child:
    """The running state of one supervised process; written only by its own watcher thread."""

    def __init__(self, supervised: Supervised) -> None:
        self.supervised = supervised
        self.popen: subprocess.Popen[bytes] | None = None
        self.healthy_since: float | None = None
        self.failures = 0
        self.restarts = 0


class Supervisor:
    """Start processes, restart each one that exits or goes deaf, stop all on request.

    ``run()`` blocks until ``stop()`` or SIGINT/SIGTERM (handled when run in the main thread);
    ``start()`` runs it in a background thread instead. A supervisor runs once.
    """

    def __init__(
        self,
        supervised: Sequence[Supervised],
        *,
        check_interval: float = 2.0,
        check_timeout: float = 2.0,
        failures_before_restart: int = 3,
        stop_seconds: float = 10.0,
        max_backoff_seconds: float = 30.0,
        stable_seconds: float = 60.0,
        output: TextIO | None = None,
    ) -> None:
        names = [item.name for item in supervised]
        if not names:
            raise ValueError("Supervisor needs at least one process")
        if len(set(names)) != len(names):
            raise ValueError(f"process names must be unique: {names}")
        if min(check_interval, check_timeout, stop_seconds, max_backoff_seconds, stable_seconds) <= 0:
            raise ValueError("intervals, timeouts, the backoff cap and stable_seconds must be positive")
        if failures_before_restart < 1:
            raise ValueError("failures_before_restart must be at least 1")
        self._children = [_Child(item) for item in supervised]
        self._check_interval = check_interval
        self._check_timeout = check_timeout
        self._failures_before_restart = failures_before_restart
        self._stop_seconds = stop_seconds
        self._max_backoff = max_backoff_seconds
        # After this long healthy, a failure is a new incident: the backoff starts again at 1 s.
        self._stable_seconds = stable_seconds
        self._output = output
        self._width = max(len(name) for name in [*names, LOG_NAME])
        self._output_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Supervise until stopped; every process group is terminated before this returns."""
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, lambda *_: self._stopping.set())
        try:
            watchers = [
                threading.Thread(target=self._watch, args=(child,), name=f"supervise-{child.supervised.name}")
                for child in self._children
            ]
            for watcher in watchers:
                watcher.start()
            self._stopping.wait()
            self._log("正在停止所有进程 (stopping)")
            for watcher in watchers:
                watcher.join()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def start(self) -> None:
        """Run in a background thread; ``stop()`` ends it."""
        if self._thread is not None:
            raise RuntimeError("this supervisor has already been started")
        self._thread = threading.Thread(target=self.run, name="supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop every process; when started with ``start()``, wait until they are gone."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def status(self) -> dict[str, ProcessStatus]:
        """Per process name: its pid while it runs, whether its last check passed, its restarts."""
        statuses = {}
        for child in self._children:
            popen = child.popen
            running = popen is not None and popen.poll() is None
            statuses[child.supervised.name] = ProcessStatus(
                name=child.supervised.name,
                pid=popen.pid if popen is not None and running else None,
                healthy=running and child.healthy_since is not None and child.failures == 0,
                restarts=child.restarts,
            )
        return statuses

    def _watch(self, child: _Child) -> None:
        """Start ``child``, wait for it to fail, kill its group, back off, start it again."""
        attempt = 0
        while not self._stopping.is_set():
            reason = self._spawn(child) or self._until_failure(child)
            stable = (
                child.healthy_since is not None
                and time.monotonic() - child.healthy_since >= self._stable_seconds
            )
            self._terminate(child)
            if reason is None:
                return
            if stable:
                attempt = 0
            delay = min(2.0**attempt, self._max_backoff)
            attempt += 1
            child.restarts += 1
            self._log(f"{child.supervised.name} {reason}，重启（第 {child.restarts} 次，等待 {delay:g} s）")
            if self._stopping.wait(delay):
                return

    def _spawn(self, child: _Child) -> str | None:
        """Start the process; the reason to restart if it cannot be started."""
        process = child.supervised.process
        child.healthy_since = None
        child.failures = 0
        try:
            child.popen = subprocess.Popen(
                process.argv,
                cwd=process.cwd,
                env={**os.environ, **process.env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            child.popen = None
            return f"无法启动（{error}）"
        if child.supervised.health_url is None:
            child.healthy_since = time.monotonic()
        assert child.popen.stdout is not None
        threading.Thread(
            target=self._copy_output, args=(process.name, child.popen.stdout), daemon=True
        ).start()
        return None

    def _until_failure(self, child: _Child) -> str | None:
        """Watch the running process; why it must be restarted, or None when stopping."""
        assert child.popen is not None
        supervised = child.supervised
        started = time.monotonic()
        next_check = started + self._check_interval
        # Exits are noticed within a fraction of the check interval, stop requests too.
        tick = min(self._check_interval, 0.25)
        while not self._stopping.wait(tick):
            code = child.popen.poll()
            if code is not None:
                return f"已退出（{_describe_exit(code)}）"
            if supervised.health_url is None or time.monotonic() < next_check:
                continue
            next_check = time.monotonic() + self._check_interval
            if self._answers(supervised.health_url):
                child.failures = 0
                if child.healthy_since is None:
                    child.healthy_since = time.monotonic()
            else:
                child.failures += 1
                if child.healthy_since is not None and child.failures >= self._failures_before_restart:
                    return f"无响应（{child.failures} 次健康检查失败）"
                waited = time.monotonic() - started
                if child.healthy_since is None and waited >= supervised.start_grace_seconds:
                    return f"启动 {supervised.start_grace_seconds:g} s 内未响应"
        return None

    def _answers(self, url: str) -> bool:
        try:
            return 200 <= httpx.get(url, timeout=self._check_timeout).status_code < 300
        except httpx.HTTPError:
            return False

    def _terminate(self, child: _Child) -> None:
        """SIGTERM the process, then SIGKILL its whole group: what it left behind, or all of it
        if it has not exited after ``stop_seconds``.

        Only the group leader gets SIGTERM: a server with workers (Sanic) stops them itself, and
        SIGTERM sent to its helper processes at the same time makes it fail noisily.
        """
        popen = child.popen
        if popen is None:
            return
        with suppress(ProcessLookupError):
            popen.terminate()
        try:
            popen.wait(timeout=self._stop_seconds)
        except subprocess.TimeoutExpired:
            self._log(f"{child.supervised.name} 未在 {self._stop_seconds:g} s 内退出，强制结束 (SIGKILL)")
        _signal_group(popen.pid, signal.SIGKILL)
        popen.wait()

    def _copy_output(self, name: str, stream: IO[bytes]) -> None:
        with stream:
            for line in stream:
                self._write(name, line.decode("utf-8", errors="replace").rstrip("\r\n"))

    def _log(self, message: str) -> None:
        self._write(LOG_NAME, message)

    def _write(self, name: str, line: str) -> None:
        output = self._output or sys.stdout
        with self._output_lock:
            output.write(f"{time.strftime('%H:%M:%S')} {name:<{self._width}} | {line}\n")
            output.flush()


def _describe_exit(code: int) -> str:
    if code >= 0:
        return f"退出码 {code}"
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"信号 {-code}"


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
