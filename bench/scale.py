"""Scale figures: ``.venv/bin/python -m bench.scale [--seconds S]`` (make bench-scale).

The scaled setting (bench.scaled_stack: nginx, PostgreSQL, Redis) with 1 and with 2 copies of
each process, side by side in one run, plus one copy whose actions run on the action server's
event loop (ZY_ACTIONS__OFF_LOOP=false: how rasa_sdk runs them, the "before"). For each:

- 20 and 60 residents pausing 2–4 s between turns (questions and bookings: bench.simulated);
- saturation: 20 residents asking guide questions back to back, no pause;

turns/s, p50/p95, busy replies and failures, and the CPU seconds each kind of process (gateway,
Rasa, actions, nginx) spent per turn at saturation, read from /proc for each process group.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.latency import percentile
from bench.scaled_stack import ScaledStack, running_scaled_stack
from bench.simulated import Tally, crowd, in_own_loop
from core.stack import UNTHROTTLED

TICKS = os.sysconf("SC_CLK_TCK")
PAUSE = (2.0, 4.0)
VARIANTS: list[tuple[str, int, dict[str, dict[str, Any]]]] = [
    (
        "改前：1 副本·动作在事件循环上·Rasa 逐次校验",
        1,
        {"actions": {"off_loop": False}, "rasa": {"cached_action_validation": False}},
    ),
    ("1 副本", 1, {}),
    ("2 副本", 2, {}),
]


@dataclass
class Phase:
    turns: int
    seconds: float
    p50_ms: float
    p95_ms: float
    busy: int
    failed: int

    @property
    def per_second(self) -> float:
        return self.turns / self.seconds


def group_cpu_seconds(leader: int) -> float:
    """User + system CPU of every live process in ``leader``'s process group (Sanic workers too)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == leader:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


def cpu_by_kind(stack: ScaledStack) -> dict[str, float]:
    assert stack.supervisor is not None
    kinds: dict[str, float] = defaultdict(float)
    for name, status in stack.supervisor.status().items():
        if status.pid is not None:
            kinds[name.split("-")[0]] += group_cpu_seconds(status.pid)
    return kinds


def phase(
    stack: ScaledStack, residents: int, seconds: float, pause: tuple[float, float], book_every: int
) -> Phase:
    tally = Tally()
    in_own_loop(crowd(stack.url, residents, seconds, pause, book_every, tally))
    ms = [t.seconds * 1000 for t in tally.turns]
    return Phase(
        turns=len(ms),
        seconds=seconds,
        p50_ms=percentile(ms, 0.5),
        p95_ms=percentile(ms, 0.95),
        busy=sum(t.outcome == "busy" for t in tally.turns),
        failed=sum(t.outcome == "failed" for t in tally.turns),
    )


def measure(stack: ScaledStack, seconds: float) -> dict[str, Any]:
    results: dict[str, Any] = {
        "20 人·停 2–4 s": phase(stack, 20, seconds, PAUSE, book_every=4),
        "60 人·停 2–4 s": phase(stack, 60, seconds, PAUSE, book_every=4),
    }
    before = cpu_by_kind(stack)
    saturated = phase(stack, 20, seconds, (0.0, 0.0), book_every=0)
    after = cpu_by_kind(stack)
    results["饱和·20 人不停顿，只问指南"] = saturated
    results["cpu_ms_per_turn"] = {
        kind: 1000 * (after[kind] - before.get(kind, 0.0)) / max(saturated.turns, 1) for kind in after
    }
    return results


def print_table(measured: dict[str, dict[str, Any]]) -> None:
    names = list(measured)
    print("\n" + " " * 30 + "".join(f"{n:>34}" for n in names))
    for load in ("20 人·停 2–4 s", "60 人·停 2–4 s", "饱和·20 人不停顿，只问指南"):
        print(load)
        rows = {
            "轮/秒": lambda p: f"{p.per_second:.1f}",
            "p50 / p95 ms": lambda p: f"{p.p50_ms:.0f} / {p.p95_ms:.0f}",
            "繁忙 / 失败": lambda p: f"{p.busy} / {p.failed}",
        }
        for label, show in rows.items():
            print(f"  {label:<28}" + "".join(f"{show(measured[n][load]):>34}" for n in names))
    print("饱和时每轮 CPU 毫秒（按进程）")
    kinds = sorted({k for n in names for k in measured[n]["cpu_ms_per_turn"]})
    for kind in kinds:
        print(
            f"  {kind:<28}" + "".join(f"{measured[n]['cpu_ms_per_turn'].get(kind, 0):>34.1f}" for n in names)
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--seconds", type=float, default=60, help="每个负载阶段的时长")
    args = parser.parse_args(argv)
    measured: dict[str, dict[str, Any]] = {}
    for label, replicas, overrides in VARIANTS:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as directory:
            settings = {**UNTHROTTLED, **overrides}
            with running_scaled_stack(Path(directory), replicas, settings) as stack:
                print(f"{label}：已就绪，测量中…", flush=True)
                measured[label] = measure(stack, args.seconds)
    print_table(measured)


if __name__ == "__main__":
    main()
