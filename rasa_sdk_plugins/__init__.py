"""rasa_sdk's plugin hook (it imports a top-level ``rasa_sdk_plugins`` package if one exists).

Used for one thing: load the retrieval model and index before the action server accepts
requests, so the first resident's question is not the one that waits for them, and
/health only answers once the server can really answer.
"""

from __future__ import annotations

import logging

import pluggy
from sanic import Sanic

hookimpl = pluggy.HookimplMarker("rasa_sdk")
logger = logging.getLogger(__name__)


class WarmUpPlugin:
    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        async def warm_up(*_: object) -> None:
            from indexer.api import get_searcher

            get_searcher().warm_up()
            logger.info("retrieval model and index loaded")

        app.register_listener(warm_up, "before_server_start")


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(WarmUpPlugin())
