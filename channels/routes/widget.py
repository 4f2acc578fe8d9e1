"""The web widget's files and the demo page: `/`, `/widget/guiboshi.js`, `/widget/guiboshi.css`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["网页挂件"], include_in_schema=False)

# The script tag has no version in its URL, so browsers revalidate it often (ETag makes that cheap);
# the demo page is always revalidated.
_SHORT = "public, max-age=300"


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    cache_control: str
    etag: str


_ASSETS = {
    "index.html": ("text/html; charset=utf-8", "no-cache"),
    "guiboshi.js": ("text/javascript; charset=utf-8", _SHORT),
    "guiboshi.css": ("text/css; charset=utf-8", _SHORT),
}


@cache
def load_asset(name: str) -> Asset:
    """One file of channels/static, read once per process."""
    media_type, cache_control = _ASSETS[name]
    body = resources.files("channels").joinpath("static").joinpath(name).read_bytes()
    etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
    return Asset(body, media_type, cache_control, etag)


def _serve(name: str, request: Request) -> Response:
    asset = load_asset(name)
    headers = {
        "Cache-Control": asset.cache_control,
        "ETag": asset.etag,
        "X-Content-Type-Options": "nosniff",
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.api_route("/", methods=["GET", "HEAD"])
def demo_page(request: Request) -> Response:
    return _serve("index.html", request)


@router.api_route("/widget/guiboshi.js", methods=["GET", "HEAD"])
def widget_script(request: Request) -> Response:
    return _serve("guiboshi.js", request)


@router.api_route("/widget/guiboshi.css", methods=["GET", "HEAD"])
def widget_styles(request: Request) -> Response:
    return _serve("guiboshi.css", request)


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
def no_favicon() -> Response:
    """Browsers ask every page for one; "nothing here" without a 404 in the console."""
    return Response(status_code=204)
