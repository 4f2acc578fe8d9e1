"""Typed FastAPI dependencies; the objects themselves are created once in the app's lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from channels.turns import TurnHandler
from core.settings import Settings


def get_turns(request: Request) -> TurnHandler:
    return request.app.state.turns


def get_settings_from_app(request: Request) -> Settings:
    return request.app.state.settings


TurnsDep = Annotated[TurnHandler, Depends(get_turns)]
SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]
