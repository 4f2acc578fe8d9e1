"""Faults, measured: ``.venv/bin/python -m bench.faults [--residents N] [--window S]`` (make bench-faults).

The scaled setting (2 copies of each process behind nginx, on a PostgreSQL and a Redis of its own:
bench.scaled_stack) while simulated residents talk (bench.simulated: questions and bookings, a
pause of 2–4 s between turns). One fault per window, one after another:

1. SIGKILL of one Rasa replica, 2. of one action server, 3. of one gateway — each restarted by
   the supervisor; 4. Redis restarted (every key lost); 5. PostgreSQL stopped for 10 s, started.

Per fault: turns answered, turns that got the polite busy reply, turns that failed outright
(target 0), how long residents were affected (first to last busy or failed turn), how long until
the killed replica answered its health check again, what /readyz named while it was down, and
whether a conversation lost its place. Afterwards the database: no booking lost (every code a
resident was given exists), none doubled (one booking per conversation at most).
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.scaled_stack import ScaledStack, running_scaled_stack
from bench.simulated import Tally, crowd, in_own_loop
from core.stack import UNTHROTTLED, Overrides
from services.db import make_engine
from services.models import Appointment

# Limits lifted, and seats enough that every simulated resident (all booking 低保 at one hall)
# finds one: a day booked out is a fair answer, but not what this benchmark measures.
FAULT_OVERRIDES: Overrides = {
    **UNTHROTTLED,
    "services": {**UNTHROTTLED["services"], "slot_capacity": 60},
}
# How long past its window a fault waits for the killed replica (Rasa loads its model ~1 min).
REPLICA_BACK_SECONDS = 240.0


@dataclass
class Fault:
    name: str
    inject: Callable[[ScaledStack], None]
    replica: str | None = None  # the supervised process it kills, if any


@dataclass
class FaultReport:
    name: str
    answered: int = 0
    busy: int = 0
    failed: int = 0
    affected_seconds: float = 0.0
    replica_back_seconds: float | None = None
    readyz_named: set[str] = field(default_factory=set)


@dataclass
class BookingCheck:
    given: int
    lost: list[str]
    doubled: int


def kill(name: str) -> Fault:
    def inject(stack: ScaledStack) -> None:
        pid = stack.pid(name)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)

    return Fault(f"{name} SIGKILL", inject, name)


def restart_redis(stack: ScaledStack) -> None:
    assert stack.redis is not None
    stack.redis.stop()
    stack.redis.start()


def stop_postgres(seconds: float) -> Callable[[ScaledStack], None]:
    def inject(stack: ScaledStack) -> None:
        assert stack.postgres is not None
        stack.postgres.stop()
        time.sleep(seconds)
        stack.postgres.start()

    return inject


def faults(postgres_down_seconds: float) -> list[Fault]:
    return [
        kill("rasa-1"),
        kill("actions-1"),
        kill("gateway-1"),
        Fault("Redis 重启（键全部丢失）", restart_redis),
        Fault(f"PostgreSQL 停 {postgres_down_seconds:g} s 再启动", stop_postgres(postgres_down_seconds)),
    ]


def _watch_readyz(stack: ScaledStack, until: threading.Event, named: set[str]) -> None:
    while not until.wait(1.0):
        checks = stack.ready().get("checks") or {}
        if isinstance(checks, dict):
            named.update(name for name, up in checks.items() if up is False)


def run_faults(
    stack: ScaledStack,
    residents: int,
    window: float,
    postgres_down_seconds: float,
    *,
    settle: float = 10.0,
    think: tuple[float, float] = (2.0, 4.0),
) -> tuple[list[FaultReport], Tally]:
    """Residents talk while the faults happen one after another, ``window`` seconds each (longer
    while a killed replica is not back yet: one fault at a time), after ``settle`` seconds."""
    tally = Tally()
    reports: list[FaultReport] = []
    finished = threading.Event()

    def injector() -> None:
        try:
            time.sleep(settle)
            for fault in faults(postgres_down_seconds):
                reports.append(_observe(stack, fault, window, tally))
        finally:
            finished.set()

    thread = threading.Thread(target=injector)
    thread.start()
    try:
        in_own_loop(crowd(stack.url, residents, 0, think, book_every=4, tally=tally, until=finished))
    finally:
        thread.join()
    return reports, tally


def _observe(stack: ScaledStack, fault: Fault, window: float, tally: Tally) -> FaultReport:
    """Inject one fault and watch: /readyz each second, the killed replica until it is back."""
    assert stack.supervisor is not None
    report = FaultReport(fault.name)
    restarts = stack.supervisor.status()[fault.replica].restarts if fault.replica else 0
    watching = threading.Event()
    watcher = threading.Thread(target=_watch_readyz, args=(stack, watching, report.readyz_named))
    started = time.monotonic()
    watcher.start()
    fault.inject(stack)
    deadline = started + window + REPLICA_BACK_SECONDS
    while time.monotonic() < started + window or (
        fault.replica and report.replica_back_seconds is None and time.monotonic() < deadline
    ):
        if fault.replica and report.replica_back_seconds is None:
            status = stack.supervisor.status()[fault.replica]
            if status.restarts > restarts and status.healthy:
                report.replica_back_seconds = time.monotonic() - started
        time.sleep(0.5)
    watching.set()
    watcher.join()
    _count(report, tally, started, time.monotonic())
    return report


def _count(report: FaultReport, tally: Tally, start: float, end: float) -> None:
    turns = tally.between(start, end)
    report.answered = sum(t.outcome == "answered" for t in turns)
    report.busy = sum(t.outcome == "busy" for t in turns)
    report.failed = sum(t.outcome == "failed" for t in turns)
    troubled = [t for t in turns if t.outcome != "answered"]
    if troubled:
        report.affected_seconds = max(t.at + t.seconds for t in troubled) - start


def check_bookings(stack: ScaledStack, tally: Tally) -> BookingCheck:
    engine = make_engine(stack.settings.services.database_url)
    with Session(engine) as session:
        codes = set(session.scalars(select(Appointment.code)))
        per_sender = session.execute(
            select(Appointment.sender_id, func.count()).group_by(Appointment.sender_id)
        ).all()
    engine.dispose()
    return BookingCheck(
        given=len(tally.codes),
        lost=[code for code in tally.codes if code not in codes],
        doubled=sum(1 for _, count in per_sender if count > 1),
    )


def print_report(reports: list[FaultReport], tally: Tally, bookings: BookingCheck) -> None:
    print(f"{'故障':<28}{'作答':>6}{'繁忙':>6}{'失败':>6}{'受影响 s':>10}{'副本恢复 s':>12}  /readyz 报告")
    for r in reports:
        back = "—" if r.replica_back_seconds is None else f"{r.replica_back_seconds:.0f}"
        named = "、".join(sorted(r.readyz_named)) or "一直就绪"
        counts = f"{r.answered:>6}{r.busy:>6}{r.failed:>6}"
        print(f"{r.name:<28}{counts}{r.affected_seconds:>10.1f}{back:>12}  {named}")
    print(
        f"全程 {len(tally.turns)} 轮；预约对话 {tally.bookings_started} 个，"
        f"拿到预约码 {tally.bookings_made} 个；走丢（正常作答后答非所问）{len(tally.lost_place)} 次，"
        f"繁忙后重说、对话被故障打断 {len(tally.interrupted)} 次"
    )
    for lost in tally.lost_place[:5]:
        print(f"  走丢：{lost}")
    for interrupted in tally.interrupted[:5]:
        print(f"  打断：{interrupted}")
    print(
        f"数据库核对：居民拿到的预约码 {bookings.given} 个，库里找不到的 {len(bookings.lost)} 个，"
        f"重复预约的对话 {bookings.doubled} 个"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faults")
    parser.add_argument("--residents", type=int, default=20)
    parser.add_argument("--window", type=float, default=45, help="每个故障的观察时长（秒）")
    parser.add_argument("--postgres-down", type=float, default=10, help="PostgreSQL 停机秒数")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="bench-faults-") as directory,
        running_scaled_stack(Path(directory), replicas=2, overrides=FAULT_OVERRIDES) as stack,
    ):
        print(
            f"多副本（每种进程 2 个，nginx 在 {stack.url}），{args.residents} 个居民，每轮间隔 2–4 s",
            flush=True,
        )
        reports, tally = run_faults(stack, args.residents, args.window, args.postgres_down)
        print_report(reports, tally, check_bookings(stack, tally))


if __name__ == "__main__":
    main()
