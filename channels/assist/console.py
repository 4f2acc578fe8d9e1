"""The operators' console page: /console and its script and styles (plain files in channels/static,
no build)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from channels.staff_files import serve

router = APIRouter(tags=["坐席辅助"], include_in_schema=False)


@router.api_route("/console", methods=["GET", "HEAD"])
def console_page(request: Request) -> Response:
    return serve("", "console.html", request)


@router.api_route("/console/console.js", methods=["GET", "HEAD"])
def console_script(request: Request) -> Response:
    return serve("", "console.js", request)


@router.api_route("/console/console.css", methods=["GET", "HEAD"])
def console_styles(request: Request) -> Response:
    return serve("", "console.css", request)
