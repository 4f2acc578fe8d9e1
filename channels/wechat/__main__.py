"""``python -m channels.wechat menu``: create the official account's custom menu."""

from __future__ import annotations

import argparse
import json
import sys

from redis import Redis
from wechatpy.exceptions import WeChatClientException

from channels.wechat.client import GatewayWeChatClient
from channels.wechat.menu import MENU, check_menu
from core.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels.wechat")
    commands = parser.add_subparsers(dest="command", required=True)
    menu = commands.add_parser("menu", help="创建公众号自定义菜单")
    menu.add_argument("--dry-run", action="store_true", help="只打印菜单，不调用微信接口")
    args = parser.parse_args(argv)

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


if __name__ == "__main__":
    sys.exit(main())
