"""The workbench's 节假日 page: how long the known calendar lasts, the years staff entered, and
entering a year the State Council has announced.

Reading is open to every signed-in member of staff (the shared page shell shows the warning on
every workbench page). Saving needs the 知识 role: the file lives in knowledge/ beside the guides
知识 staff maintain, and 管理员 manages accounts only (services/staff.py keeps the powers apart).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from channels.dependencies import SettingsDep
from channels.routes.services import ERRORS, ChineseErrorsRoute, ServicesDep
from channels.staff_auth import SignedInDep, require
from services.holidays import (
    CalendarStatus,
    HolidayListing,
    YearView,
    calendar_status,
    listing,
    overrides,
    year_view,
)
from services.models import StaffRole
from services.staff import SignedIn

router = APIRouter(
    prefix="/api/workbench/holidays", tags=["工作台"], route_class=ChineseErrorsRoute, responses=ERRORS
)

KnowledgeDep = Annotated[SignedIn, require(StaffRole.knowledge)]
Year = Annotated[int, Path(ge=2000, le=2100, description="年份")]


class HolidayYearBody(BaseModel):
    """A year as the notice gives it; services/holidays.py validates every field (unknown keys too)."""

    model_config = ConfigDict(extra="allow")

    notice: dict[str, object]
    holidays: dict[str, list[str]]
    workdays: list[str] = []


@router.get("/status", summary="节假日日历覆盖到哪一天，是否需要录入下一年")
def holiday_status(staff: SignedInDep, services: ServicesDep, settings: SettingsDep) -> CalendarStatus:
    return calendar_status(
        services.context().today,
        overrides(),
        warning_days=settings.workbench.holiday_warning_days,
        booking_horizon_days=settings.services.booking_horizon_days,
    )


@router.get("", summary="已知年份及来源、已录入的年份文件")
def holiday_years(staff: SignedInDep, services: ServicesDep) -> HolidayListing:
    return listing(overrides(), services.context().today)


@router.put("/{year}", summary="录入或修改一年的放假安排（知识角色；写入 knowledge/holidays/<年份>.yaml）")
async def save_holiday_year(
    year: Year, body: HolidayYearBody, staff: KnowledgeDep, services: ServicesDep
) -> YearView:
    saved = await run_in_threadpool(
        services.save_holiday_year, overrides(), year, body.model_dump(), actor=staff.member.login
    )
    return year_view(saved)
