"""GET /api/search: the knowledge base, for the operators' console and the widget's search box."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from channels.ip_limits import limited
from channels.routes.services import ERRORS, ChineseErrorsRoute
from indexer.api import search
from indexer.search import QueryError

router = APIRouter(tags=["检索"], route_class=ChineseErrorsRoute, responses=ERRORS)


@router.get("/api/search", summary="检索办事指南与政策条款", dependencies=[limited("search")])
async def search_knowledge(
    q: Annotated[str, Query(max_length=500, description="问题")],
    k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> dict[str, Any]:
    try:
        result = await run_in_threadpool(search, q, k)
    except QueryError as error:
        raise HTTPException(status_code=422, detail=str(error)) from error
    return result.to_json()
