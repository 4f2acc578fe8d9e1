"""The dashboard's JSON and exports (roles 数据 and 管理员):

- GET /api/workbench/dashboard?start=&end=&channel=  every figure of the period as named tables
- GET /api/workbench/export?table=&format=csv|xlsx&start=&end=&channel=  one table as CSV, or
  one table (or ``table=all``) as an Excel workbook

Figures hold masked texts and pseudonymous counts only; the composition is workbench/dashboard.py.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from channels.dependencies import SettingsDep
from channels.routes.services import ERRORS, ChineseErrorsRoute, ServicesDep
from channels.staff_auth import require
from services.analytics_queries import Period
from services.errors import InvalidInput
from services.models import StaffRole
from services.staff import SignedIn
from workbench import dashboard, export
from workbench.clusters import Encode

router = APIRouter(
    prefix="/api/workbench", tags=["服务中心工作台"], route_class=ChineseErrorsRoute, responses=ERRORS
)

AnalystDep = Annotated[SignedIn, require(StaffRole.analyst, StaffRole.admin)]
DEFAULT_DAYS = 30
MAX_DAYS = 366
CHANNEL_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,15}")


def _encoder() -> Encode | None:
    """The index's query encoder, or None where no index is built (each wording its own group)."""
    from indexer.api import get_searcher

    try:
        searcher = get_searcher()
    except Exception:  # no index yet: the dashboard still shows every other figure
        return None
    return searcher.encoder.encode_queries


EncoderDep = Annotated[Encode | None, Depends(_encoder)]


def _period(
    services: ServicesDep,
    start: Annotated[dt.date | None, Query(description="开始日期（含），默认结束日期前 29 天")] = None,
    end: Annotated[dt.date | None, Query(description="结束日期（含），默认今天")] = None,
    channel: Annotated[str | None, Query(description="只看一个渠道：web、wechat …")] = None,
) -> Period:
    end = end or services.context().today
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput("开始日期不能晚于结束日期。", field="start")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"一次最多查看 {MAX_DAYS} 天，请缩短日期范围。", field="start")
    channel = channel or None
    if channel is not None and CHANNEL_PATTERN.fullmatch(channel) is None:
        raise InvalidInput("渠道名称不正确。", field="channel")
    return Period(start, end, channel)


PeriodDep = Annotated[Period, Depends(_period)]


class TableOut(BaseModel):
    name: str
    title: str
    columns: list[str]
    rows: list[list[str | int | float | None]]


class SummaryOut(BaseModel):
    turns: int
    answered_rate: float
    fallback_rate: float
    handoff_rate: float
    ratings: int
    satisfaction: float | None
    handoffs_opened: int
    handoffs_claimed: int
    mean_claim_minutes: float | None
    median_claim_minutes: float | None


class ChannelOut(BaseModel):
    value: str
    label: str


class DashboardOut(BaseModel):
    start: dt.date
    end: dt.date
    channel: str | None
    channels: list[ChannelOut]
    summary: SummaryOut
    tables: list[TableOut]
    forecast_note: str
    forecast_start: dt.date


def _view(
    services: ServicesDep, settings: SettingsDep, period: Period, encode: Encode | None
) -> dashboard.DashboardView:
    return dashboard.build(
        services, settings.workbench, period, today=services.context().today, encode=encode
    )


@router.get("/dashboard", summary="看板：一段时间内的咨询量、答复、满意度、转人工、未答问题与预约预测")
def get_dashboard(
    _staff: AnalystDep, services: ServicesDep, settings: SettingsDep, period: PeriodDep, encode: EncoderDep
) -> DashboardOut:
    view = _view(services, settings, period, encode)
    return DashboardOut(
        start=period.start,
        end=period.end,
        channel=period.channel,
        channels=[ChannelOut(value=v, label=label) for v, label in dashboard.CHANNEL_LABELS.items()],
        summary=SummaryOut(**vars(view.summary)),
        tables=[TableOut(**vars(table)) for table in view.tables],
        forecast_note=view.forecast_note,
        forecast_start=view.forecast_start,
    )


@router.get("/export", summary="导出看板表格（CSV 或 Excel）")
def export_table(
    _staff: AnalystDep,
    services: ServicesDep,
    settings: SettingsDep,
    period: PeriodDep,
    encode: EncoderDep,
    table: Annotated[str, Query(max_length=40)],
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> Response:
    view = _view(services, settings, period, encode)
    names = [t.name for t in view.tables]
    if table == "all" and format == "xlsx":
        chosen = view.tables
    elif table in names:
        chosen = [view.table(table)]
    else:
        raise InvalidInput(f"没有“{table}”这张表，可选：{'、'.join(names)}。", field="table")
    channel = dashboard.channel_label(period.channel) if period.channel else "全部渠道"
    caption = f"{period.start.isoformat()} 至 {period.end.isoformat()}，{channel}"
    stem = (
        f"{chosen[0].title if len(chosen) == 1 else '服务中心看板'}_{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    )
    if format == "csv":
        body, media = export.to_csv(chosen[0]), "text/csv; charset=utf-8"
    else:
        body = export.to_xlsx(chosen, caption=caption)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = quote(f"{stem}.{format}")
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename=export.{format}; filename*=UTF-8''{filename}",
            "Cache-Control": "no-store",
        },
    )
