"""rasa_sdk's plugin hook (it imports a top-level ``rasa_sdk_plugins`` package if one exists).

Used to load the retrieval model and index before the action server accepts requests, so the
first resident's question is not the one that waits for them and /health only answers once the
server can really answer — and to give Sanic's workers the time that loading takes. /readyz
tells which index build this server answers from (the gateway's /readyz shows it).
"""

from __future__ import annotations

import logging
from dataclasses import asdict

import pluggy
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json
from sanic.worker.manager import WorkerManager

hookimpl = pluggy.HookimplMarker("rasa_sdk")
logger = logging.getLogger(__name__)
# Sanic gives a worker 30 s (300 × 0.1 s) to start, then shuts the server down. Loading the index
# and encoder takes longer when several servers start at once on two cores (the scaled setting),
# so allow 5 minutes: Sanic's documented knob for slow workers.
WORKER_STARTUP_TENTHS = 3000


class WarmUpPlugin:
    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        WorkerManager.THRESHOLD = WORKER_STARTUP_TENTHS

        async def warm_up(*_: object) -> None:
            from indexer.api import get_searcher

            get_searcher().warm_up()
            logger.info("retrieval model and index loaded")

        app.register_listener(warm_up, "before_server_start")

        @app.get("/readyz")
        async def readyz(_request: Request) -> HTTPResponse:
            from indexer.api import index_version

            try:
                version = asdict(index_version())
            except Exception as error:  # a missing index: not ready, and say why
                return json({"ready": False, "index": None, "error": str(error)}, status=503)
            return json({"ready": True, "index": version})


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(WarmUpPlugin())
