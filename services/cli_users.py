"""``python -m services users add | disable | enable | reset | list``: staff accounts from the shell.

There is no default account and no default password: the first administrator is made here. A
password is typed twice at a prompt, or read from one line of stdin with ``--password-stdin`` (for
scripts; never pass a password as an argument, where ``ps`` and the shell history would show it).
The audit log names the operating-system user who ran the command (``cli:<user>``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys

from core.settings import StaffSettings
from services.errors import DomainError
from services.facade import Services
from services.models import StaffRole
from services.staff import ROLE_LABELS, StaffDirectory, StaffMember


class PasswordMismatch(Exception):
    pass


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("users", help="工作人员账号：开设、停用、启用、重置密码、列出")
    actions = parser.add_subparsers(dest="users_command", required=True)
    roles = "、".join(f"{role.value}（{label}）" for role, label in ROLE_LABELS.items())

    add = actions.add_parser("add", help="开设账号（第一个管理员也由此开设）")
    add.add_argument("login", help="登录名，如工号 zy1023")
    add.add_argument("--name", required=True, help="姓名（显示名）")
    add.add_argument(
        "--role",
        action="append",
        required=True,
        choices=[role.value for role in StaffRole],
        help=f"角色，可重复：{roles}；审计、管理员不能与其他角色兼任",
    )
    _password_option(add)

    reset = actions.add_parser("reset", help="重置密码（同时解除锁定，并让该账号所有会话失效）")
    reset.add_argument("login")
    _password_option(reset)

    for name, text in (("disable", "停用账号（其会话立即失效）"), ("enable", "重新启用已停用的账号")):
        actions.add_parser(name, help=text).add_argument("login")
    actions.add_parser("list", help="列出所有账号")


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true", help="从标准输入读取一行作为密码（供脚本使用）"
    )


def run(services: Services, settings: StaffSettings, args: argparse.Namespace) -> int:
    directory = StaffDirectory(services, settings)
    actor = f"cli:{_os_user()}"
    try:
        if args.users_command == "list":
            _print_accounts(directory.accounts(), services.context().now)
            return 0
        if args.users_command == "add":
            password = _password(args.password_stdin)
            member = directory.add(args.login, args.name, args.role, password, actor=actor)
            print(f"已开设账号 {member.login}（{member.display_name}，{_roles(member)}）。")
        elif args.users_command == "reset":
            member = directory.reset_password(args.login, _password(args.password_stdin), actor=actor)
            print(f"已重置 {member.login} 的密码；锁定已解除，原有会话均已失效。")
        else:
            disabled = args.users_command == "disable"
            member = directory.set_disabled(args.login, disabled, actor=actor)
            print(f"已{'停用' if disabled else '启用'}账号 {member.login}。")
    except DomainError as error:
        print(error.message, file=sys.stderr)
        return 1
    except PasswordMismatch:
        print("两次输入的密码不一致，未做任何修改。", file=sys.stderr)
        return 1
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再输入一次：") != first:
        raise PasswordMismatch
    return first


def _os_user() -> str:
    try:
        return getpass.getuser()
    except OSError:  # no USER variable and no passwd entry (a bare container)
        return "unknown"


def _roles(member: StaffMember) -> str:
    return "、".join(ROLE_LABELS[role] for role in member.roles)


def _print_accounts(members: list[StaffMember], now: dt.datetime) -> None:
    if not members:
        print(
            "还没有账号。开设第一个管理员：python -m services users add <登录名> --name <姓名> --role admin"
        )
        return
    for member in members:
        if member.disabled:
            state = "已停用"
        elif member.locked_until is not None and member.locked_until > now:
            state = f"密码错误过多，锁定至 {member.locked_until:%H:%M}"
        else:
            state = "正常"
        print(f"{member.login:<20} {member.display_name:<10} {_roles(member):<12} {state}")
