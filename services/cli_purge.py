"""``python -m services purge [--older-than DAYS] [--dry-run]``: delete what is past retention."""

from __future__ import annotations

import argparse
import sys

from core.rasa_endpoints import EndpointsError, tracker_store_url
from core.settings import Settings
from services import retention
from services.facade import Services


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "purge", help="删除超过保留期的对话、转人工记录、评价和已办结的投诉（审计日志、办件、预约保留）"
    )
    parser.add_argument(
        "--older-than",
        type=_days,
        default=None,
        metavar="DAYS",
        help="保留天数，早于此的记录删除（默认取 ZY_SERVICES__RETENTION_DAYS）",
    )
    parser.add_argument("--dry-run", action="store_true", help="只统计将删除多少条，不删除")


def run(services: Services, settings: Settings, args: argparse.Namespace) -> int:
    days = args.older_than or settings.services.retention_days
    try:
        store = settings.services.conversation_store_url or tracker_store_url(settings.rasa.endpoints)
    except EndpointsError as error:
        print(
            f"找不到 Rasa 的对话库，未删除任何记录：{error}。请设置这些变量，"
            "或用 ZY_SERVICES__CONVERSATION_STORE_URL 直接给出它的地址。",
            file=sys.stderr,
        )
        return 1
    buffer = settings.workbench.events_db if settings.workbench.event_broker == "sql" else None
    report = retention.purge(
        services,
        older_than_days=days,
        conversation_store=store,
        broker_buffer=f"sqlite:///{buffer}" if buffer else None,
        dry_run=args.dry_run,
    )
    verb = "将删除" if report.dry_run else "已删除"
    print(f"保留期 {days} 天：{verb} {report.cutoff:%Y-%m-%d %H:%M} 之前的记录")
    if store is None:
        print("  Rasa 的 tracker_store 不是 SQL 存储，没有要清理的对话库。")
    for table, rows in report.deleted.items():
        print(f"  {retention.LABELS[table]}：{rows} 条")
    print("审计日志、办件和预约是行政行为的记录，不在清理之列。")
    if report.dry_run:
        print("（--dry-run：只统计，未删除。）")
    return 0


def _days(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"应为正整数天数：{value!r}")
    return int(value)
