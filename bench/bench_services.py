"""Booking throughput and latency under 50 concurrent clients, double-booking count, lookup p95.

    .venv/bin/python -m bench.bench_services [--clients 50] [--attempts 20] [--json PATH]

Runs on a fresh SQLite file and, when reachable, a fresh PostgreSQL database
(``ZY_TEST_POSTGRES_URL``, default postgres@127.0.0.1:5432/test); both are deleted afterwards.
The clock is fixed (Thursday 26 November 2026) so the bookable days are the same on every run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import func, select

from core.settings import PROJECT_ROOT, ServicesSettings
from services import applications
from services.applications import ApplicationRequest
from services.appointments import BookingRequest, slot_starts
from services.catalog import Catalog, CatalogService, load_halls
from services.db import make_engine, make_sessionmaker
from services.errors import DomainError
from services.facade import Services
from services.identity import id_check_char
from services.models import Appointment, AppointmentStatus, SlotCounter
from services.scratch import DEFAULT_POSTGRES_URL, postgres_database, postgres_problem, sqlite_database

NOW = dt.datetime(2026, 11, 26, 10, 0)
DAYS = [
    dt.date(2026, 11, 27),
    dt.date(2026, 11, 30),
    dt.date(2026, 12, 1),
    dt.date(2026, 12, 2),
    dt.date(2026, 12, 3),
]
SERVICES = (
    CatalogService("bench_a", "基准事项甲", 5, 20, (("city", "一号窗口"),)),
    CatalogService("bench_b", "基准事项乙", 10, 20, (("city", "二号窗口"),)),
)
CAPACITY = 4


@dataclass
class Result:
    backend: str
    clients: int
    attempts: int
    booked: int
    refused_full: int
    other_errors: int
    seconds: float
    bookings_per_second: float
    attempts_per_second: float
    book_p50_ms: float
    book_p95_ms: float
    single_client_p50_ms: float
    double_bookings: int
    counter_mismatches: int
    lookups: int
    lookup_p50_ms: float
    lookup_p95_ms: float


def resident(index: int) -> dict[str, str]:
    # Distinct for every index below 20 million: the birth date carries the thousands, the sequence the rest.
    first17 = f"520302{dt.date(1940, 1, 1) + dt.timedelta(days=index // 1000):%Y%m%d}{index % 1000:03d}"
    return {"name": "测试", "id_number": first17 + id_check_char(first17), "phone": f"138{index:08d}"}


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def timed_burst(
    clients: int, jobs: list[list[Callable[[], object]]]
) -> tuple[list[float], Counter[str], float]:
    """Each client runs its own job list; all start together. Returns latencies (ms), outcomes, wall time."""
    barrier = threading.Barrier(clients)
    lock = threading.Lock()
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()

    def client(calls: list[Callable[[], object]]) -> None:
        barrier.wait()
        for call in calls:
            started = time.perf_counter()
            try:
                call()
                outcome = "ok"
            except DomainError as error:
                outcome = error.code
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                outcomes[outcome] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, jobs))
    return latencies, outcomes, time.perf_counter() - started


def run_backend(backend: str, url: str, clients: int, attempts: int) -> Result:
    settings = ServicesSettings(
        database_url=url,
        secret_key=SecretStr("bench-secret"),
        slot_capacity=CAPACITY,
        lookup_limit_per_sender=1_000_000,
        lookup_failures_per_number=1_000_000,
    )
    engine = make_engine(url, pool_size=clients + 5, max_overflow=10)
    services = Services(make_sessionmaker(engine), settings, clock=lambda: NOW)
    services.sync_catalog(Catalog(load_halls(PROJECT_ROOT / "knowledge" / "halls.yaml"), SERVICES))
    rng = random.Random(7)
    slots = [
        (service.id, start) for service in SERVICES for day in DAYS for start in slot_starts(settings, day)
    ]

    def attempt(index: int) -> Callable[[], object]:
        service_id, start = rng.choice(slots)
        request = BookingRequest.model_validate(
            {
                "hall_id": "city",
                "service_id": service_id,
                "start": start,
                "sender_id": f"bench:{index}",
                **resident(index),
            }
        )
        return lambda: services.book(request)

    # One client alone first, on its own day: the floor that concurrent latency is measured against.
    alone = [
        BookingRequest.model_validate(
            {
                "hall_id": "city",
                "service_id": "bench_b",
                "start": dt.datetime(2026, 12, 4, 9, 0) + dt.timedelta(minutes=30 * (i % 6)),
                "sender_id": "bench:alone",
                **resident(900_000 + i),
            }
        )
        for i in range(min(24, 6 * CAPACITY))
    ]
    single, _single_outcomes, _ = timed_burst(1, [[partial(services.book, r) for r in alone]])

    jobs = [[attempt(c * attempts + a) for a in range(attempts)] for c in range(clients)]
    latencies, outcomes, seconds = timed_burst(clients, jobs)

    with services.unit() as (session, _ctx):
        per_slot = session.execute(
            select(Appointment.service_id, Appointment.slot_start, func.count())
            .where(Appointment.status == AppointmentStatus.booked)
            .group_by(Appointment.service_id, Appointment.slot_start)
        ).all()
        counters = {(c.service_id, c.slot_start): c.booked for c in session.scalars(select(SlotCounter))}
    double = sum(max(0, count - CAPACITY) for _service, _start, count in per_slot)
    mismatches = sum(counters.get((service, start), 0) != count for service, start, count in per_slot)

    numbers = seed_applications(services, 500)
    lookup_jobs = [
        [_lookup(services, rng, numbers, f"bench:l{c}") for _ in range(attempts)] for c in range(clients)
    ]
    lookup_latencies, _lookup_outcomes, _ = timed_burst(clients, lookup_jobs)
    engine.dispose()
    booked = outcomes["ok"]
    return Result(
        backend=backend,
        clients=clients,
        attempts=sum(outcomes.values()),
        booked=booked,
        refused_full=outcomes["slot_full"],
        other_errors=sum(v for k, v in outcomes.items() if k not in ("ok", "slot_full")),
        seconds=round(seconds, 2),
        bookings_per_second=round(booked / seconds, 1),
        attempts_per_second=round(sum(outcomes.values()) / seconds, 1),
        book_p50_ms=round(percentile(latencies, 50), 1),
        book_p95_ms=round(percentile(latencies, 95), 1),
        single_client_p50_ms=round(percentile(single, 50), 1),
        double_bookings=double,
        counter_mismatches=mismatches,
        lookups=len(lookup_latencies),
        lookup_p50_ms=round(percentile(lookup_latencies, 50), 1),
        lookup_p95_ms=round(percentile(lookup_latencies, 95), 1),
    )


def seed_applications(services: Services, count: int) -> list[tuple[str, str]]:
    """(number, ID tail) for ``count`` fresh applications, written in one transaction."""
    out = []
    with services.unit() as (session, ctx):
        for index in range(count):
            who = resident(100_000 + index)
            view = applications.submit(
                session,
                ctx,
                ApplicationRequest(
                    service_id="bench_a",
                    applicant_name=who["name"],
                    id_number=who["id_number"],
                    phone=who["phone"],
                    hall_id="city",
                ),
                handler="基准测试",
            )
            out.append((view.number, who["id_number"][-6:]))
    return out


def _lookup(
    services: Services, rng: random.Random, numbers: list[tuple[str, str]], sender: str
) -> Callable[[], object]:
    number, tail = rng.choice(numbers)
    proof = tail if rng.random() < 0.8 else "000000"  # a fifth are wrong proofs, the neutral path
    return lambda: services.lookup_application(number, proof, sender)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_services", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--attempts", type=int, default=20, help="booking attempts (and lookups) per client")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, url, skipped in _each(Path(tmp)):
            if url is None:
                print(f"{backend}: skipped — {skipped}")
                continue
            results.append(run_backend(backend, url, args.clients, args.attempts))

    columns = [
        ("backend", 11, "backend"),
        ("booked", 7, "booked"),
        ("full", 6, "refused_full"),
        ("err", 5, "other_errors"),
        ("book/s", 8, "bookings_per_second"),
        ("try/s", 8, "attempts_per_second"),
        ("p50 ms", 8, "book_p50_ms"),
        ("p95 ms", 8, "book_p95_ms"),
        ("alone", 7, "single_client_p50_ms"),
        ("double", 8, "double_bookings"),
        ("lookup p50", 11, "lookup_p50_ms"),
        ("lookup p95", 11, "lookup_p95_ms"),
    ]
    print(
        f"{args.clients} concurrent clients × {args.attempts} booking attempts (capacity {CAPACITY} per slot)"
    )
    print(
        "".join(
            f"{title:<{width}}" if i == 0 else f"{title:>{width}}"
            for i, (title, width, _) in enumerate(columns)
        )
    )
    for r in results:
        row = asdict(r)
        print(
            "".join(
                f"{row[key]!s:<{w}}" if i == 0 else f"{row[key]!s:>{w}}"
                for i, (_, w, key) in enumerate(columns)
            )
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2))
    bad = [r for r in results if r.double_bookings or r.counter_mismatches or r.other_errors]
    # (other_errors counts anything but a booking or a full slot, e.g. a lock timeout; there should be none.)
    if bad:
        print(
            "FAILED: double bookings, counter mismatches or unexpected errors on",
            ", ".join(r.backend for r in bad),
        )
    return 1 if bad else 0


def _each(tmp: Path) -> Iterator[tuple[str, str | None, str | None]]:
    # Generators keep each database alive only while its backend runs.
    with sqlite_database(tmp) as url:
        yield "sqlite", url, None
    admin = os.environ.get("ZY_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    problem = postgres_problem(admin)
    if problem:
        yield "postgresql", None, problem
        return
    with postgres_database(admin, prefix="zy_bench") as url:
        yield "postgresql", url, None


if __name__ == "__main__":
    raise SystemExit(main())
