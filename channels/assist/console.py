"""The operators' console page: /console and its script and styles (plain files in channels/static,
no build)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["坐席辅助"], include_in_schema=False)

_FILES = {
    "console.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
# The page acts for a signed-in member of staff: it must not be framed by another site (clickjacking)
# nor leak its URLs in a Referer.
_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


@cache
def load(name: str) -> Asset:
    body = resources.files("channels").joinpath("static").joinpath(name).read_bytes()
    return Asset(body, _FILES[name], f'"{hashlib.sha256(body).hexdigest()[:16]}"')


def _serve(name: str, request: Request) -> Response:
    asset = load(name)
    headers = {**_HEADERS, "ETag": asset.etag}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.api_route("/console", methods=["GET", "HEAD"])
def console_page(request: Request) -> Response:
    return _serve("console.html", request)


@router.api_route("/console/console.js", methods=["GET", "HEAD"])
def console_script(request: Request) -> Response:
    return _serve("console.js", request)


@router.api_route("/console/console.css", methods=["GET", "HEAD"])
def console_styles(request: Request) -> Response:
    return _serve("console.css", request)
