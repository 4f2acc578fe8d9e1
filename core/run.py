"""``python -m core.run``: start the action server, Rasa and the gateway; stop all on Ctrl-C."""

from __future__ import annotations

import os
import shlex
import sys

from honcho.manager import Manager

from core.processes import all_processes
from core.settings import get_settings


def main() -> int:
    settings = get_settings()
    manager = Manager()
    for process in all_processes(settings):
        manager.add_process(
            process.name,
            shlex.join(process.argv),
            env={**os.environ, **process.env},
            cwd=str(process.cwd),
        )
    gateway = settings.gateway
    print(
        f"网关与演示页面：http://{gateway.host}:{gateway.port}/   接口文档：http://{gateway.host}:{gateway.port}/docs"
    )
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
