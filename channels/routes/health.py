"""Liveness and readiness: /readyz names the part that is down."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool

from channels.dependencies import SettingsDep, TurnsDep

router = APIRouter(tags=["运维"])


@router.get("/healthz", summary="进程存活")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _action_server_up(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(f"{url}/health")
    except httpx.HTTPError:
        return False
    return 200 <= response.status_code < 300


async def _redis_up(url: str) -> bool:
    client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except RedisError:
        return False
    finally:
        await client.aclose()


def _index_up() -> bool:
    from indexer.api import get_searcher

    try:
        return get_searcher().manifest.chunk_count > 0
    except Exception:  # a missing or stale index means "not ready"
        return False


def _own_index_version() -> dict[str, Any] | None:
    from indexer.api import index_version

    try:
        return asdict(index_version())
    except Exception:  # reported as not ready by the index check
        return None


async def _action_server_index_version(url: str) -> dict[str, Any] | None:
    """The index version the action server serves (its /readyz, rasa_sdk_plugins)."""
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            response = await client.get(f"{url}/readyz")
    except httpx.HTTPError:
        return None
    if not 200 <= response.status_code < 300:
        return None
    index = response.json().get("index")
    return index if isinstance(index, dict) else None


@router.get(
    "/readyz",
    summary="依赖是否就绪：Rasa、动作服务器、数据库、索引、Redis（配置了时）；各进程所用的索引版本",
)
async def readyz(request: Request, settings: SettingsDep, turns: TurnsDep) -> JSONResponse:
    checks: dict[str, Any] = {
        "rasa": await turns.rasa_alive(),
        "action_server": await _action_server_up(settings.gateway.action_server_url),
        "database": await run_in_threadpool(request.app.state.services.ping),
        "index": await run_in_threadpool(_index_up),
    }
    redis_urls = {url for url in (settings.gateway.redis_url, settings.wechat.redis_url) if url}
    if redis_urls:
        checks["redis"] = all([await _redis_up(url) for url in sorted(redis_urls)])
    ready = all(checks.values())
    # Which index build each process answers from; they differ for a few seconds after a build.
    versions = {
        "gateway": await run_in_threadpool(_own_index_version),
        "action_server": await _action_server_index_version(settings.gateway.action_server_url),
    }
    return JSONResponse(
        {"ready": ready, "checks": checks, "index_versions": versions}, status_code=200 if ready else 503
    )
