"""``python -m services audit verify``: check the audit log's hash chain from the first row to the last."""

from __future__ import annotations

import argparse
import sys

from services import audit
from services.facade import Services


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("audit", help="审计日志：校验哈希链")
    actions = parser.add_subparsers(dest="audit_command", required=True)
    actions.add_parser(
        "verify", help="逐条校验审计日志的哈希链；发现记录被修改、删除或链外插入时以非零状态退出"
    )


def verify(services: Services) -> int:
    """Exit status 0 when the chain holds, 1 naming the first row where it breaks."""
    with services.unit() as (session, ctx):
        check = audit.verify(session, ctx)
    older = (
        f"另有 {check.unchained} 条记录早于哈希链（升级到 0003 之前写入），无法校验。"
        if check.unchained
        else ""
    )
    if not check.ok:
        print(f"审计日志已被篡改：{check.problem}", file=sys.stderr)
        print(f"在此之前已校验 {check.checked} 条记录，均完好。{older}", file=sys.stderr)
        return 1
    head = f"，链尾为第 {check.head_id} 条" if check.head_id is not None else ""
    print(f"审计日志哈希链完好：已校验 {check.checked} 条记录{head}。{older}")
    return 0
