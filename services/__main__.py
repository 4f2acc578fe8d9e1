"""``python -m services migrate | seed | catalog | purge | audit | users``: database upkeep and staff
accounts, for development and deployment."""

from __future__ import annotations

import argparse
import sys

from core.settings import get_settings
from services import cli_audit, cli_purge, cli_users
from services.catalog import Catalog, load_catalog
from services.db import migrate
from services.facade import Services
from services.seed import SeedRefused, seed
from services.seed_turns import TurnSeedRefused, seed_month


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services", description="遵义政务服务后台：数据库维护")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="升级数据库结构到最新版本")
    commands.add_parser("catalog", help="从 knowledge/ 同步大厅、事项与窗口")
    seed_parser = commands.add_parser("seed", help="写入演示数据（已存在时跳过）")
    seed_parser.add_argument("--count", type=int, default=None, help="办件数量（默认取设置）")
    seed_parser.add_argument(
        "--turns", action="store_true", help="改为写入一个月的虚构对话统计（工作台看板演示用）"
    )
    cli_audit.add_parser(commands)
    cli_purge.add_parser(commands)
    cli_users.add_parser(commands)
    args = parser.parse_args(argv)

    settings = get_settings()
    if args.command == "migrate":
        migrate(settings.services.database_url)
        print(f"数据库已升级到最新版本：{_safe_url(settings.services.database_url)}")
        return 0
    services = Services.from_settings(settings)
    if args.command == "audit":
        return cli_audit.verify(services)
    if args.command == "purge":
        return cli_purge.run(services, settings, args)
    if args.command == "users":
        return cli_users.run(services, settings.staff, args)
    data = load_catalog(settings.knowledge.guides_dir, settings.knowledge.halls_file)
    if args.command == "catalog":
        services.sync_catalog(data)
        print(f"已同步 {len(data.halls)} 个大厅、{len(data.services)} 个事项")
        return 0
    if args.turns:
        return _seed_turns(services, data, settings.environment)
    count = args.count if args.count is not None else settings.services.seed_applications
    try:
        report = seed(services, data, count=count, environment=settings.environment)
    except SeedRefused as error:
        print(error, file=sys.stderr)
        return 1
    if report.skipped:
        print("演示数据已存在（或没有可用的事项），未重复写入。")
        return 0
    print(f"已写入 {report.applications} 件办件、{report.appointments} 个预约。可用于查询的示例：")
    for status, (number, tail, phone) in report.samples.items():
        print(f"  {status.value:<17} {number}  身份证后6位 {tail}  或手机号 {phone}")
    return 0


def _seed_turns(services: Services, data: Catalog, environment: str) -> int:
    try:
        report = seed_month(services, data, environment=environment)
    except TurnSeedRefused as error:
        print(error, file=sys.stderr)
        return 1
    if report.skipped:
        print("演示对话统计已存在（或没有可预约的事项），未重复写入。")
        return 0
    print(
        f"已写入 {report.first_day} 至 {report.last_day} 的 {report.turns} 轮对话、"
        f"{report.ratings} 条评价、{report.handoffs} 次转人工。打开 /workbench 查看看板。"
    )
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
