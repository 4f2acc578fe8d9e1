"""``python -m workbench ingest [--once]``: the service centre's workbench from the command line."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from core.settings import get_settings
from workbench.ingest import runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench", description="遵义政务服务工作台")
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="把 Rasa 事件代理中的对话事件写入分析库（持续运行）")
    ingest.add_argument("--once", action="store_true", help="读完现有事件后退出")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)  # every connection step at INFO
    settings = get_settings()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    source = settings.workbench.event_broker
    print(f"对话事件入库：来源 {'RabbitMQ' if source == 'rabbitmq' else 'Rasa SQL 事件表'}", flush=True)
    totals = runner.run(settings, stop=stop, once=args.once)
    print(f"已处理 {totals.events} 个事件：新增 {totals.added} 轮对话，更新 {totals.updated} 轮", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
