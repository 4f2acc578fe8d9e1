"""``python -m channels.wechat menu``: create the official account's custom menu.

``python -m channels.wechat resend``: try the customer-service sends that failed every retry once
more (the gateways' failure log); those failing again stay recorded for the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from redis import Redis
from wechatpy.exceptions import WeChatClientException

from channels.wechat.client import GatewayWeChatClient
from channels.wechat.delivery import ResendReport, failure_log, resend_failures
from channels.wechat.menu import MENU, check_menu
from channels.wechat.store import make_store
from core.settings import WeChatSettings, get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels.wechat")
    commands = parser.add_subparsers(dest="command", required=True)
    menu = commands.add_parser("menu", help="创建公众号自定义菜单")
    menu.add_argument("--dry-run", action="store_true", help="只打印菜单，不调用微信接口")
    commands.add_parser("resend", help="重发记录在案的发送失败的客服消息（每条再试一次）")
    args = parser.parse_args(argv)
    if args.command == "resend":
        return resend(get_settings().wechat)

    check_menu(MENU)
    if args.dry_run:
        print(json.dumps(MENU, ensure_ascii=False, indent=2))
        return 0
    settings = get_settings().wechat
    # The gateway's token cache, so this command does not invalidate the gateways' token.
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    try:
        GatewayWeChatClient(settings, redis).menu.create(MENU)
    except WeChatClientException as error:
        print(f"创建菜单失败（{settings.api_base_url}）：{error}", file=sys.stderr)
        return 1
    print(f"已创建菜单：{len(MENU['button'])} 个一级菜单")
    return 0


def resend(settings: WeChatSettings) -> int:
    """Exit status 0 when every recorded failure went out (or there were none), 1 otherwise."""
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    client = GatewayWeChatClient(settings, redis)

    async def run() -> ResendReport:
        store = make_store(settings.redis_url, settings.redis_prefix)
        try:
            return await resend_failures(client, failure_log(settings, store))
        finally:
            await store.close()

    try:
        report = asyncio.run(run())
    finally:
        if redis is not None:
            redis.close()
    print(f"重发客服消息：成功 {report.sent} 条，仍失败 {report.failed} 条")
    return 0 if report.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
