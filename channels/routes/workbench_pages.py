"""The service centre's workbench pages and their files (plain files in channels/static, no build).

/workbench (the dashboard), /workbench/inbox, /workbench/hit-test and /workbench/holidays serve
channels/static/workbench/<page>.html; /workbench/assets/<file> serves that folder's scripts and
styles, /vendor/<file> the vendored libraries (channels/static/vendor). The pages themselves hold no
data: every figure comes from /api/workbench/… routes that check the signed-in role.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, HTTPException, Request, Response

router = APIRouter(tags=["服务中心工作台"], include_in_schema=False)

_PAGES = {
    "": "dashboard.html",
    "inbox": "inbox.html",
    "hit-test": "hit-test.html",
    "holidays": "holidays.html",
}
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# A flat file name with a known suffix: nothing outside the two folders can be named.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.(html|js|css|txt)$")
# The pages act for a signed-in member of staff: not framed by another site, no URLs in a Referer.
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
def load(folder: str, name: str) -> Asset | None:
    """One file of channels/static/<folder>, read once per process; None when there is none."""
    if not _NAME.match(name) or ".." in name:
        return None
    path = resources.files("channels").joinpath("static").joinpath(folder).joinpath(name)
    if not path.is_file():
        return None
    body = path.read_bytes()
    suffix = name[name.rindex(".") :]
    return Asset(body, _MEDIA_TYPES[suffix], f'"{hashlib.sha256(body).hexdigest()[:16]}"')


def _serve(folder: str, name: str, request: Request) -> Response:
    asset = load(folder, name)
    if asset is None:
        raise HTTPException(status_code=404, detail="没有这个页面或文件。")
    headers = {**_HEADERS, "ETag": asset.etag}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.api_route("/workbench", methods=["GET", "HEAD"])
def dashboard_page(request: Request) -> Response:
    return _serve("workbench", _PAGES[""], request)


@router.api_route("/workbench/assets/{name}", methods=["GET", "HEAD"])
def workbench_asset(name: str, request: Request) -> Response:
    return _serve("workbench", name, request)


@router.api_route("/vendor/{name}", methods=["GET", "HEAD"])
def vendor_asset(name: str, request: Request) -> Response:
    return _serve("vendor", name, request)


@router.api_route("/workbench/{page}", methods=["GET", "HEAD"])
def workbench_page(page: str, request: Request) -> Response:
    if page not in _PAGES or not page:
        raise HTTPException(status_code=404, detail="没有这个页面。")
    return _serve("workbench", _PAGES[page], request)
