"""Two copies of every process behind nginx keep answering while parts of the system die.

A shorter run of bench.faults: residents talk (questions and bookings) while one Rasa, one action
server and one gateway are SIGKILLed in turn, Redis restarts and PostgreSQL stops for a few
seconds. Every turn gets an answer or the polite busy reply; no conversation loses its place;
every booking a resident was told about is in the database, and none is made twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.faults import FAULT_OVERRIDES, check_bookings, run_faults
from bench.scaled_stack import running_scaled_stack

pytestmark = pytest.mark.e2e


def test_two_replicas_survive_killed_processes_redis_and_postgres(tmp_path: Path) -> None:
    with running_scaled_stack(tmp_path, replicas=2, overrides=FAULT_OVERRIDES) as stack:
        reports, tally = run_faults(stack, residents=6, window=25, postgres_down_seconds=6, settle=5)
        bookings = check_bookings(stack, tally)
        ready_after = stack.ready()

    summary = json.dumps(
        {r.name: (r.answered, r.busy, r.failed, sorted(r.readyz_named)) for r in reports}, ensure_ascii=False
    )
    assert all(r.failed == 0 for r in reports), summary
    assert all(r.answered > 0 for r in reports), summary  # answers came back in every window
    for report in reports[:3]:  # the SIGKILLed replicas were started again and answer
        assert report.replica_back_seconds is not None, summary
    assert "database" in reports[-1].readyz_named, summary  # /readyz named PostgreSQL while down
    assert tally.lost_place == [], "\n".join(tally.lost_place)
    assert bookings.given > 0 and bookings.lost == [] and bookings.doubled == 0, str(bookings)
    assert ready_after.get("ready") is True, str(ready_after)
