"""Files of the staff pages (the console, the workbench) served from channels/static: read once per
process, revalidated by ETag, never framed by another site and never leaking their URLs."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import HTTPException, Request, Response

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# A flat file name with a known suffix: nothing outside the named folder can be asked for.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.(html|js|css|txt)$")
# The pages act for a signed-in member of staff: not framed by another site (clickjacking), no URLs
# in a Referer.
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
    """One file of channels/static/<folder> ("" for channels/static itself); None when there is none."""
    if not _NAME.match(name) or ".." in name:
        return None
    directory = resources.files("channels").joinpath("static")
    path = directory.joinpath(folder).joinpath(name) if folder else directory.joinpath(name)
    if not path.is_file():
        return None
    body = path.read_bytes()
    suffix = name[name.rindex(".") :]
    return Asset(body, _MEDIA_TYPES[suffix], f'"{hashlib.sha256(body).hexdigest()[:16]}"')


def serve(folder: str, name: str, request: Request) -> Response:
    asset = load(folder, name)
    if asset is None:
        raise HTTPException(status_code=404, detail="没有这个页面或文件。")
    headers = {**_HEADERS, "ETag": asset.etag}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
