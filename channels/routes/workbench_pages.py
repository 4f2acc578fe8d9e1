"""The service centre's workbench pages and their files (plain files in channels/static, no build).

/workbench (the dashboard), /workbench/inbox, /workbench/hit-test and /workbench/holidays serve
channels/static/workbench/<page>.html; /workbench/assets/<file> serves that folder's scripts and
styles, /vendor/<file> the vendored libraries (channels/static/vendor). The pages themselves hold no
data: every figure comes from /api/workbench/… routes that check the signed-in role.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from channels.staff_files import serve

router = APIRouter(tags=["服务中心工作台"], include_in_schema=False)

_PAGES = {
    "": "dashboard.html",
    "inbox": "inbox.html",
    "hit-test": "hit-test.html",
    "holidays": "holidays.html",
}


@router.api_route("/workbench", methods=["GET", "HEAD"])
def dashboard_page(request: Request) -> Response:
    return serve("workbench", _PAGES[""], request)


@router.api_route("/workbench/assets/{name}", methods=["GET", "HEAD"])
def workbench_asset(name: str, request: Request) -> Response:
    return serve("workbench", name, request)


@router.api_route("/vendor/{name}", methods=["GET", "HEAD"])
def vendor_asset(name: str, request: Request) -> Response:
    return serve("vendor", name, request)


@router.api_route("/workbench/{page}", methods=["GET", "HEAD"])
def workbench_page(page: str, request: Request) -> Response:
    if page not in _PAGES or not page:
        raise HTTPException(status_code=404, detail="没有这个页面。")
    return serve("workbench", _PAGES[page], request)
