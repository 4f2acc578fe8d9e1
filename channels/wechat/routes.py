"""GET /wechat (URL verification) and POST /wechat (messages and events)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from wechatpy.replies import TextReply

from channels.dependencies import TurnsDep
from channels.routes.suggestions import suggestions_for
from channels.wechat import protocol
from channels.wechat.runtime import WeChatRuntime


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs inside the app's own lifespan, after it has put the settings on app.state.
    runtime = WeChatRuntime.from_settings(app.state.settings, lambda: suggestions_for(app).questions())
    app.state.wechat = runtime
    # The first welcome must not wait for the suggestions (guides and analytics) to be read.
    warming = asyncio.create_task(run_in_threadpool(_warm_suggestions, app))
    yield
    warming.cancel()
    await runtime.close()


def _warm_suggestions(app: FastAPI) -> None:
    try:
        suggestions_for(app).questions()
    except Exception as error:  # reported when the suggestions are next asked for
        logging.getLogger(__name__).warning("suggestions not warmed up: %s", error)


router = APIRouter(tags=["微信公众号"], lifespan=lifespan)


def get_runtime(request: Request) -> WeChatRuntime:
    runtime: WeChatRuntime = request.app.state.wechat
    return runtime


RuntimeDep = Annotated[WeChatRuntime, Depends(get_runtime)]
Param = Annotated[str, Query(max_length=256)]
OptionalParam = Annotated[str | None, Query(max_length=256)]


@router.get("/wechat", response_class=PlainTextResponse, summary="微信服务器地址验证")
async def verify(
    runtime: RuntimeDep, signature: Param = "", timestamp: Param = "", nonce: Param = "", echostr: Param = ""
) -> str:
    try:
        runtime.protocol.verify(protocol.Query(signature, timestamp, nonce))
    except protocol.Rejected as error:
        raise HTTPException(status_code=error.status_code, detail=error.detail) from None
    return echostr


@router.post("/wechat", summary="接收微信消息与事件，5 秒内被动回复")
async def receive(
    request: Request,
    runtime: RuntimeDep,
    turns: TurnsDep,
    signature: Param = "",
    timestamp: Param = "",
    nonce: Param = "",
    encrypt_type: OptionalParam = None,
    msg_signature: OptionalParam = None,
) -> Response:
    received_at = time.monotonic()
    query = protocol.Query(signature, timestamp, nonce, encrypt_type, msg_signature)
    try:
        incoming = runtime.protocol.open(query, await request.body())
    except protocol.Rejected as error:
        raise HTTPException(status_code=error.status_code, detail=error.detail) from None
    text = await runtime.dispatcher.answer(incoming.message, turns, received_at)
    if text is None:
        # WeChat's "received, no passive reply" (it then neither retries nor shows an error).
        return PlainTextResponse("success")
    reply = TextReply(message=incoming.message, content=text).render()
    return Response(runtime.protocol.seal(reply, query, incoming.encrypted), media_type="application/xml")
