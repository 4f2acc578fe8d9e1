"""The gateway: the one process residents and operators reach."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from channels.assist import console, desk, live
from channels.knowledge_reload import follow_index
from channels.limits import BodySizeLimit
from channels.rasa_client import RasaClient
from channels.routes import (
    agency,
    chat,
    health,
    inbox,
    search,
    staff,
    staff_login,
    suggestions,
    widget,
    workbench_dashboard,
    workbench_holidays,
    workbench_knowledge,
    workbench_pages,
)
from channels.routes.services import public_router
from channels.turns import TurnHandler
from channels.wechat.routes import router as wechat_router
from core.settings import Settings, get_settings
from services.facade import Services
from services.staff import StaffDirectory


def _warm_search() -> None:
    from indexer.api import get_searcher

    try:
        get_searcher().warm_up()
    except Exception as error:  # a missing index is reported by /readyz, not fatal here
        logging.getLogger(__name__).warning("search not warmed up: %s", error)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = settings.gateway
        token = gateway.rasa_token.get_secret_value() if gateway.rasa_token else None
        rasa = RasaClient(gateway.rasa_url, timeout=gateway.rasa_timeout_seconds, token=token)
        app.state.settings = settings
        app.state.services = services or Services.from_settings(settings)
        app.state.staff = StaffDirectory(app.state.services, settings.staff)
        app.state.turns = TurnHandler(rasa, gateway, app.state.services)
        stop_following = follow_index(app.state.services, settings.knowledge.halls_file)
        # Load the search model off the event loop so the first /api/search doesn't wait for it.
        warming = asyncio.create_task(run_in_threadpool(_warm_search))
        yield
        warming.cancel()
        stop_following()
        await rasa.close()

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = FastAPI(title="遵义市政务服务智能助手网关", version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodySizeLimit, max_bytes=settings.gateway.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.gateway.widget_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
    )
    app.include_router(health.router)
    app.include_router(chat.router)
    app.include_router(search.router)
    app.include_router(suggestions.router)
    app.include_router(wechat_router)
    app.include_router(widget.router)
    app.include_router(public_router, prefix="/api/services")
    app.include_router(agency.public_router, prefix="/api/services")
    # Every staff route checks the signed-in account's role itself (channels/staff_auth.py).
    app.include_router(staff_login.router)
    app.include_router(staff.router, prefix="/api/staff")
    app.include_router(agency.staff_router, prefix="/api/staff")
    app.include_router(inbox.router)
    app.include_router(live.router)
    app.include_router(desk.router, prefix="/api/staff")
    app.include_router(console.router)
    app.include_router(workbench_pages.router)
    app.include_router(workbench_dashboard.router)
    app.include_router(workbench_knowledge.router)
    app.include_router(workbench_holidays.router)
    return app
