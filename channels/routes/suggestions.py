"""GET /api/suggestions: “猜你想问” for the widget's opening panel (the WeChat welcome uses the same)."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.requests import HTTPConnection
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from channels.ip_limits import limited
from channels.routes.services import ERRORS, ChineseErrorsRoute
from core.settings import Settings, get_settings
from services.facade import Services
from workbench.suggestions import Suggestions

router = APIRouter(tags=["猜你想问"], route_class=ChineseErrorsRoute, responses=ERRORS)
_lock = threading.Lock()


class SuggestionList(BaseModel):
    questions: list[str]


def suggestions_for(app: Starlette) -> Suggestions:
    """The app's cache of suggested questions, made on first use over the app's Services."""
    state: State = app.state
    with _lock:
        book: Suggestions | None = getattr(state, "suggestions", None)
        if book is None:
            settings: Settings = getattr(state, "settings", None) or get_settings()
            services: Services = getattr(state, "services", None) or Services.from_settings(settings)
            book = state.suggestions = Suggestions(services, settings, now=lambda: services.context().now)
    return book


def suggestions_of(connection: HTTPConnection) -> Suggestions:
    return suggestions_for(connection.app)


SuggestionsDep = Annotated[Suggestions, Depends(suggestions_of)]


@router.get("/api/suggestions", summary="猜你想问：近期问得最多的问题", dependencies=[limited("search")])
async def suggested_questions(book: SuggestionsDep) -> SuggestionList:
    return SuggestionList(questions=await run_in_threadpool(book.questions))
