"""``python -m core.run [--replicas N]``: start the action server, Rasa, the gateway (N copies of
each behind nginx with ``--replicas``: core/scaled.py) and the analytics ingester (always one),
restart any that dies or stops answering, and stop all on Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import sys

from core.processes import action_server, gateway, ingester, rasa_server
from core.scaled import NotScalable, ScaledLayout, check, prepare, scaled_processes, shared_env
from core.settings import VAR_DIR, Settings, get_settings
from core.supervisor import Supervised, Supervisor

# Rasa loads its model before it opens its port; the others answer within seconds.
RASA_START_SECONDS = 180.0
START_SECONDS = 60.0
# A server bound to every interface is checked, like a local client reaches it, on loopback.
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
# Replicas under load answer health checks late; deafness is judged more patiently.
SCALED_CHECK_TIMEOUT = 5.0


def local_url(host: str, port: int, path: str) -> str:
    host = "127.0.0.1" if host in WILDCARD_HOSTS else host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{path}"


def supervised(settings: Settings) -> list[Supervised]:
    rasa, web = settings.rasa, settings.gateway
    return [
        Supervised(
            action_server(settings), local_url("127.0.0.1", rasa.action_port, "/health"), START_SECONDS
        ),
        # Rasa's root answers "Hello from Rasa" without a token.
        Supervised(rasa_server(settings), local_url(rasa.host, rasa.port, "/"), RASA_START_SECONDS),
        Supervised(gateway(settings), local_url(web.host, web.port, "/healthz"), START_SECONDS),
        # No port: judged by whether it runs; it waits out a missing broker or database itself.
        Supervised(ingester(settings)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.run", description="启动遵义政务服务智能助手")
    parser.add_argument(
        "--replicas", type=int, default=0, help="每种进程的副本数，nginx 负载均衡（须 PostgreSQL 与 Redis）"
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    web = settings.gateway
    if args.replicas:
        try:
            supervisor = scaled(settings, args.replicas)
        except NotScalable as error:
            print(error, file=sys.stderr)
            return 2
    else:
        supervisor = Supervisor(supervised(settings))
    print(
        f"网关与演示页面：http://{web.host}:{web.port}/   接口文档：http://{web.host}:{web.port}/docs",
        flush=True,
    )
    supervisor.run()
    return 0


def scaled(settings: Settings, replicas: int) -> Supervisor:
    """Check the settings, migrate once, then supervise N copies of each process and nginx."""
    check(settings)
    env = shared_env(settings)
    prepare(settings, env)
    layout = ScaledLayout.allocate(replicas, VAR_DIR / "scaled")
    return Supervisor(scaled_processes(settings, layout, env), check_timeout=SCALED_CHECK_TIMEOUT)


if __name__ == "__main__":
    sys.exit(main())
