"""The workbench, measured: ``.venv/bin/python -m bench.workbench [--turns N] [--postgres URL] [--quick]``
(make bench-workbench). Needs the built index, not a trained Rasa model.

1. Ingest: events/s and turns/s the ingester sustains from Rasa's SQL broker table and from
   RabbitMQ (a throwaway queue; skipped when unreachable) into a scratch services database
   (SQLite, and PostgreSQL when --postgres or ZY_TEST_POSTGRES_URL names a server), for N turns
   replicated from events recorded on the real stack (bench.workbench_ingest); then everything
   replayed once more, and the rows counted: one per turn.
2. A fee edited in a guide, 改前 vs 改后 side by side: rebuild + restart of the searching process
   against the running process swapping its index (bench.workbench_reload).
3. The dashboard on a seeded month (``services seed --turns`` into a scratch database): all its
   figures, the inbox grouping of its unanswered questions, the export of every table to xlsx.

Exits non-zero when a check fails (rows ≠ turns, a search error, a stale answer after the swap).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bench.workbench_ingest import (
    IngestRun,
    ingest_rabbitmq,
    ingest_sql,
    rabbitmq_problem,
    synthetic_workload,
)
from bench.workbench_reload import SEARCHES_PER_SECOND, ReloadFigures
from bench.workbench_reload import measure as measure_reload
from core.settings import Settings, get_settings
from indexer.api import get_searcher
from indexer.builder import make_encoder
from services.analytics_queries import Period
from services.catalog import load_catalog
from services.db import make_engine, make_sessionmaker
from services.facade import Services
from services.scratch import postgres_database, postgres_problem, sqlite_database
from services.seed_turns import seed_month
from workbench import dashboard, export
from workbench.inbox import inbox_groups
from workbench.ingest.runner import assembler_for

Result = TypeVar("Result")
BACKEND_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Options:
    turns: int
    steady_seconds: float
    cold_runs: int
    seeded_days: int
    runs: int


FULL = Options(turns=10_000, steady_seconds=8.0, cold_runs=3, seeded_days=30, runs=5)
QUICK = Options(turns=260, steady_seconds=2.0, cold_runs=1, seeded_days=7, runs=2)


@dataclass(frozen=True)
class DashboardFigures:
    turns: int
    seed_seconds: float
    dashboard_ms: tuple[float, float]  # median, first
    tables: int
    inbox_ms: tuple[float, float]
    inbox_turns: int
    inbox_groups: int
    xlsx_ms: float
    xlsx_kb: float


def width(text: str) -> int:
    """Columns a terminal gives ``text`` (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def row(label: str, cells: Sequence[str], *, first: int = 36, rest: int = 26) -> str:
    line = label + " " * max(1, first - width(label))
    return line + "".join(" " * max(1, rest - width(cell)) + cell for cell in cells)


def timed(step: Callable[[], Result], runs: int) -> tuple[Result, float, float]:
    """The last result, the median and the first of ``runs`` timings, in ms."""
    result: Result | None = None
    ms = []
    for _ in range(runs):
        started = time.perf_counter()
        result = step()
        ms.append((time.perf_counter() - started) * 1000)
    assert result is not None
    return result, statistics.median(ms), ms[0]


@contextmanager
def scratch_services(
    base: Settings, backend: str, directory: Path, postgres: str | None
) -> Iterator[Services]:
    """Services on a fresh migrated database of ``backend``, dropped afterwards."""
    database: AbstractContextManager[str] = (
        sqlite_database(directory)
        if backend == "sqlite"
        else postgres_database(str(postgres), prefix="zy_bench")
    )
    with database as url:
        engine = make_engine(url, pool_size=2, max_overflow=2)
        try:
            yield Services(make_sessionmaker(engine), base.services.model_copy(update={"database_url": url}))
        finally:
            engine.dispose()


def ingest_section(
    base: Settings, options: Options, backends: list[str], postgres: str | None, directory: Path
) -> list[str]:
    workload = synthetic_workload(options.turns)
    assembler = assembler_for(base)
    batch = base.workbench.ingest_batch
    url = base.workbench.rabbitmq_url.get_secret_value()
    rabbit_skip = rabbitmq_problem(url)
    failures = []
    print(
        f"\n1. 接入：{workload.turns} 轮对话 = {len(workload.events)} 个 Rasa 事件"
        f"（录制的真实对话复制，换新会话号与消息号），每批 {batch} 个事件"
    )
    print(row("来源 → 数据库", ["事件/秒", "轮/秒", "重放：事件/秒", "行数（首次/重放后）"], rest=20))
    for source in ("sql", "rabbitmq"):
        for backend in backends:
            label = f"{'SQL 代理' if source == 'sql' else 'RabbitMQ'} → {BACKEND_LABELS[backend]}"
            if source == "rabbitmq" and rabbit_skip:
                print(row(label, [rabbit_skip], rest=20))
                continue
            with scratch_services(base, backend, directory, postgres) as services:
                if source == "sql":
                    events_db = directory / f"rasa-events-{backend}.db"
                    run: IngestRun = ingest_sql(services, assembler, workload, events_db, batch=batch)
                else:
                    run = ingest_rabbitmq(services, assembler, workload, url, batch=batch)
            verdict = "" if run.counted_once else "  ✗"
            print(
                row(
                    label,
                    [
                        f"{run.events / run.first_seconds:.0f}",
                        f"{run.turns / run.first_seconds:.0f}",
                        f"{run.events / run.replay_seconds:.0f}",
                        f"{run.rows_first} / {run.rows_after_replay}{verdict}",
                    ],
                    rest=20,
                )
            )
            if not run.counted_once:
                failures.append(
                    f"{label}：行数 {run.rows_first}/{run.rows_after_replay} 与轮数 {run.turns} 不符"
                )
    return failures


def reload_section(base: Settings, options: Options, directory: Path) -> list[str]:
    # Every search encodes its question: the bench repeats questions, residents rarely do.
    index = base.index.model_copy(update={"query_cache_size": 0})
    encoder = make_encoder(base.model_copy(update={"index": index}))
    encoder.warm_up()
    figures: ReloadFigures = measure_reload(
        base, encoder, directory, steady_seconds=options.steady_seconds, cold_runs=options.cold_runs
    )
    check = base.workbench.index_check_seconds
    print(
        f"\n2. 知识变更生效：改一处收费标准（索引 {figures.chunks} 个片段；检索线程每秒 "
        f"{SEARCHES_PER_SECOND:g} 次，问题向量不缓存）"
    )
    print(row("", ["改前：重建 + 重启检索进程", f"改后：热切换（每 {check:g} s 检查）"]))
    build = f"{figures.build_seconds:.1f}"
    print(row("重建索引 python -m indexer build（增量）s", [build, build]))
    tail, cold_start = figures.build_tail_seconds, figures.cold_start_seconds
    cold = f"{tail + cold_start:.1f}（构建收尾 {tail:.1f} + 冷启动 {cold_start:.1f}）"
    print(row("新索引写成 → 答出新收费 s", [cold, f"{figures.visible_seconds:.1f}"]))
    steady = f"{figures.steady_ms[0]:.0f} / {figures.steady_ms[1]:.0f}（{figures.steady_ms[2]} 次）"
    during = f"{figures.during_ms[0]:.0f} / {figures.during_ms[1]:.0f}（{figures.during_ms[2]} 次）"
    print(row("检索 p50 / p95 ms，稳态", [steady, steady]))
    down = f"重启时停服 {figures.cold_start_seconds:.1f} s"
    print(row("检索 p50 / p95 ms，重建与切换期间", [down, during]))
    print(row("检索错误 / 切换后的旧答案", ["—", f"{figures.errors} / {figures.stale_after_swap}"]))
    print(
        f"   索引版本 {figures.versions[0]} → {figures.versions[1]}；改前在重启前一直答旧收费，"
        "且不含 Rasa 重训与其他进程的重启"
    )
    failures = []
    if figures.errors or figures.stale_after_swap:
        failures.append(f"热切换：{figures.errors} 次检索出错，{figures.stale_after_swap} 次切换后仍答旧收费")
    if figures.versions[1] <= figures.versions[0]:
        failures.append(f"热切换：索引版本未上升（{figures.versions[0]} → {figures.versions[1]}）")
    if math.isnan(figures.visible_seconds):
        failures.append("热切换：运行中的检索始终没有答出新收费")
    if not figures.cold_start_new_fee:
        failures.append("冷启动的新进程没有答出新收费")
    return failures


def measure_dashboard(services: Services, base: Settings, options: Options) -> DashboardFigures:
    catalog = load_catalog(base.knowledge.guides_dir, base.knowledge.halls_file)
    started = time.perf_counter()
    # A scratch database: the refusal to seed under production protects real residents' figures.
    report = seed_month(services, catalog, environment="development", days=options.seeded_days)
    seed_seconds = time.perf_counter() - started
    if report.first_day is None or report.last_day is None:
        raise RuntimeError("虚构的一个月没有写入（目录里没有可预约的事项？）")
    period = Period(report.first_day, report.last_day)
    today = services.context().today
    searcher = get_searcher()
    searcher.warm_up()  # the model loaded before the clock starts, as in a running gateway
    encode = searcher.encoder.encode_queries  # as the dashboard route encodes

    def build() -> dashboard.DashboardView:
        return dashboard.build(services, base.workbench, period, today=today, encode=encode)

    view, dashboard_ms, dashboard_first = timed(build, options.runs)
    groups, inbox_ms, inbox_first = timed(lambda: inbox_groups(services, base), options.runs)
    caption = f"{period.start.isoformat()} 至 {period.end.isoformat()}，全部渠道"
    xlsx, xlsx_ms, _first = timed(lambda: export.to_xlsx(view.tables, caption=caption), options.runs)
    return DashboardFigures(
        turns=report.turns,
        seed_seconds=seed_seconds,
        dashboard_ms=(dashboard_ms, dashboard_first),
        tables=len(view.tables),
        inbox_ms=(inbox_ms, inbox_first),
        inbox_turns=sum(group.count for group in groups),
        inbox_groups=len(groups),
        xlsx_ms=xlsx_ms,
        xlsx_kb=len(xlsx) / 1024,
    )


def dashboard_section(
    base: Settings, options: Options, backends: list[str], postgres: str | None, directory: Path
) -> list[str]:
    measured: dict[str, DashboardFigures] = {}
    for backend in backends:
        with scratch_services(base, backend, directory, postgres) as services:
            measured[backend] = measure_dashboard(services, base, options)
    turns = next(iter(measured.values())).turns
    print(f"\n3. 看板：虚构的 {options.seeded_days} 天（{turns} 轮），每项 {options.runs} 次取中位（首次）")
    print(row("", [BACKEND_LABELS[b] for b in measured]))
    lines: dict[str, Callable[[DashboardFigures], str]] = {
        "写入虚构数据 s": lambda f: f"{f.seed_seconds:.1f}",
        "全部看板数字 ms": lambda f: f"{f.dashboard_ms[0]:.0f}（{f.dashboard_ms[1]:.0f}）·{f.tables} 张表",
        "收件箱分组 ms": lambda f: f"{f.inbox_ms[0]:.0f}（{f.inbox_ms[1]:.0f}）",
        "收件箱：轮数 → 组数": lambda f: f"{f.inbox_turns} → {f.inbox_groups}",
        "导出全部表格 xlsx ms": lambda f: f"{f.xlsx_ms:.0f}（{f.xlsx_kb:.0f} KB）",
    }
    for label, show in lines.items():
        print(row(label, [show(f) for f in measured.values()]))
    return [
        f"看板（{BACKEND_LABELS[b]}）：收件箱没有分组" for b, f in measured.items() if f.inbox_groups == 0
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.workbench", description="工作台基准：接入、知识热更新、看板"
    )
    parser.add_argument("--turns", type=int, default=None, help=f"接入的对话轮数（默认 {FULL.turns}）")
    parser.add_argument(
        "--postgres", default=None, help="PostgreSQL 管理库 URL（默认取 ZY_TEST_POSTGRES_URL）"
    )
    parser.add_argument("--quick", action="store_true", help="小规模冒烟运行")
    args = parser.parse_args(argv)
    options = QUICK if args.quick else FULL
    if args.turns is not None:
        options = Options(
            args.turns, options.steady_seconds, options.cold_runs, options.seeded_days, options.runs
        )

    base = get_settings()
    postgres = args.postgres or os.environ.get("ZY_TEST_POSTGRES_URL")
    backends = ["sqlite"]
    if postgres:
        problem = postgres_problem(postgres)
        if problem:
            print(f"PostgreSQL 跳过：{problem}")
        else:
            backends.append("postgresql")
    else:
        print("PostgreSQL 跳过：未给出 --postgres 或 ZY_TEST_POSTGRES_URL")

    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-workbench-") as name:
        directory = Path(name)
        failures += ingest_section(base, options, backends, postgres, directory)
        (directory / "knowledge-copy").mkdir()
        failures += reload_section(base, options, directory / "knowledge-copy")
        failures += dashboard_section(base, options, backends, postgres, directory)
    print("\n失败：" + ("；".join(failures) if failures else "无"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
