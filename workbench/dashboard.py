"""The service centre's dashboard: the figures of a period as named tables, plus the clustered
unanswered questions and the booking forecast. Pages draw their charts from these tables and the
exports write the same tables, so a chart, the screen and a spreadsheet never disagree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from core.settings import WorkbenchSettings
from services.analytics_queries import Figures, Period, UnansweredText
from services.facade import Services
from workbench.clusters import Encode, cluster_questions
from workbench.forecast import METHOD_LABELS, ServiceForecast, forecast_service

Cell = str | int | float | None

CHANNEL_LABELS = {"web": "网页", "wechat": "微信", "window": "窗口", "phone": "电话", "app": "App"}
KIND_LABELS = {
    "answered": "已回答",
    "clarified": "追问澄清",
    "fallback": "未能回答",
    "out_of_scope": "超出范围",
    "form_step": "表单步骤",
    "handoff": "转人工",
    "other": "寒暄及其他",
}
TOP_SERVICES = 10
TREND_SERVICES = 5
FORECAST_SERVICES = 5
HISTORY_DAYS = 56
UNANSWERED_TEXTS = 500
UNANSWERED_GROUPS = 20

FORECAST_NOTE = (
    "预测对象：每个事项每天的预约请求数（群众在对话中表达“预约”意图且指向该事项的轮次）。"
    "方法：用最近至多 {history} 天的每日历史，以 statsmodels 的 Holt-Winters 指数平滑（加法周季节，"
    "历史不足三周时改用简单指数平滑）预测未来 {days} 天；休息日的请求计入下一个工作日。"
    "可约号源 = 仍开放预约的大厅每时段号源之和 × 当天时段数（节假日、周末为 0）。"
    "待满足需求超过可约号源的日期标为号源不足。"
)


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Summary:
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


@dataclass(frozen=True)
class UnansweredGroup:
    label: str
    count: int  # turns in the group
    variants: int  # distinct wordings
    examples: list[str]


@dataclass(frozen=True)
class DashboardView:
    period: Period
    summary: Summary
    tables: list[Table]
    forecast_note: str
    forecast_start: dt.date

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def summarize(figures: Figures) -> Summary:
    by_kind = {count.key: count.turns for count in figures.outcomes}
    turns = sum(by_kind.values())
    ratings = sum(s.ratings for s in figures.satisfaction_channels)
    score_sum = sum(s.average * s.ratings for s in figures.satisfaction_channels)
    handoffs = figures.handoffs
    return Summary(
        turns=turns,
        answered_rate=_rate(by_kind.get("answered", 0), turns),
        fallback_rate=_rate(by_kind.get("fallback", 0), turns),
        handoff_rate=round(handoffs.rate, 4),
        ratings=ratings,
        satisfaction=round(score_sum / ratings, 2) if ratings else None,
        handoffs_opened=handoffs.opened,
        handoffs_claimed=handoffs.claimed,
        mean_claim_minutes=handoffs.mean_claim_minutes,
        median_claim_minutes=handoffs.median_claim_minutes,
    )


def group_unanswered(
    texts: Sequence[UnansweredText], encode: Encode | None, *, similarity: float, limit: int
) -> list[UnansweredGroup]:
    """Near-duplicate wordings as one group (e5 vectors), most frequent group first. Without an
    encoder (no index built yet) each distinct wording is its own group."""
    if encode is None or len(texts) < 2:
        members = [[i] for i in range(len(texts))]
    else:
        members = [
            list(c.members) for c in cluster_questions([t.text for t in texts], encode, similarity=similarity)
        ]
    groups = []
    for indices in members:
        # The most frequent wording names the group; texts arrive most frequent first.
        ordered = sorted(indices)
        groups.append(
            UnansweredGroup(
                label=texts[ordered[0]].text,
                count=sum(texts[i].count for i in ordered),
                variants=len(ordered),
                examples=[texts[i].text for i in ordered[1:4]],
            )
        )
    groups.sort(key=lambda g: (-g.count, g.label))
    return groups[:limit]


def forecast_bookings(services: Services, today: dt.date, horizon: int) -> list[ServiceForecast]:
    """Booking requests for ``horizon`` days from ``today`` for the most booked services."""
    first = services.first_analytics_day()
    if first is None or first >= today:
        return []
    history = Period(max(first, today - dt.timedelta(days=HISTORY_DAYS)), today - dt.timedelta(days=1))
    top, days = services.booking_demand(history, top=FORECAST_SERVICES)
    future = [today + dt.timedelta(days=n) for n in range(horizon)]
    capacity = services.booking_capacity([s.guide_id for s in top], future)
    forecasts = []
    for service in top:
        series = [d.turns for d in days if d.guide_id == service.guide_id]
        seats = capacity.get(service.guide_id, {})
        forecasts.append(
            forecast_service(
                service.guide_id,
                service.name,
                series,
                today,
                horizon,
                is_open=partial(_has_seats, seats),
                capacity=partial(_seats, seats),
            )
        )
    return forecasts


def _seats(seats: dict[dt.date, int], day: dt.date) -> int:
    return seats.get(day, 0)


def _has_seats(seats: dict[dt.date, int], day: dt.date) -> bool:
    return seats.get(day, 0) > 0


def build(
    services: Services,
    settings: WorkbenchSettings,
    period: Period,
    *,
    today: dt.date,
    encode: Encode | None,
) -> DashboardView:
    figures = services.analytics_figures(period, top=TOP_SERVICES, low_rating=settings.low_rating)
    texts = services.unanswered_texts(period, low_confidence=settings.low_confidence, limit=UNANSWERED_TEXTS)
    groups = group_unanswered(texts, encode, similarity=settings.cluster_similarity, limit=UNANSWERED_GROUPS)
    forecasts = forecast_bookings(services, today, settings.forecast_days)
    summary = summarize(figures)
    tables = [
        *_figure_tables(figures, summary),
        _unanswered_table(groups),
        _forecast_table(forecasts),
    ]
    note = FORECAST_NOTE.format(history=HISTORY_DAYS, days=settings.forecast_days)
    return DashboardView(period, summary, tables, note, today)


def _figure_tables(figures: Figures, summary: Summary) -> list[Table]:
    total = summary.turns
    names = {s.guide_id: s.name for s in figures.services}
    trend_ids = [s.guide_id for s in figures.services[:TREND_SERVICES]]
    trend: dict[dt.date, dict[str, int]] = {}
    for row in figures.service_trend:
        trend.setdefault(row.day, {})[row.guide_id] = row.turns
    handoffs = figures.handoffs
    return [
        Table(
            "daily",
            "每日咨询量",
            ["日期", "对话轮次", "已回答", "未能回答", "转人工"],
            [[d.day.isoformat(), d.turns, d.answered, d.fallback, d.handoff] for d in figures.daily],
        ),
        Table(
            "hourly", "分时段咨询量", ["时段", "对话轮次"], [[f"{c.key}时", c.turns] for c in figures.hourly]
        ),
        Table(
            "channels",
            "各渠道咨询量",
            ["渠道", "对话轮次", "占比"],
            [[channel_label(c.key), c.turns, _rate(c.turns, total)] for c in figures.channels],
        ),
        Table(
            "outcomes",
            "答复情况",
            ["答复类型", "对话轮次", "占比"],
            [[KIND_LABELS.get(c.key, c.key), c.turns, _rate(c.turns, total)] for c in figures.outcomes],
        ),
        Table(
            "services",
            "咨询最多的事项",
            ["事项编号", "事项", "对话轮次"],
            [[s.guide_id, s.name, s.turns] for s in figures.services],
        ),
        Table(
            "service_trend",
            "热门事项每日趋势",
            ["日期", *(names[g] for g in trend_ids)],
            [
                [day.isoformat(), *(trend.get(day, {}).get(g, 0) for g in trend_ids)]
                for day in figures.period.days
            ],
        ),
        Table(
            "satisfaction_guides",
            "各事项满意度",
            ["事项编号", "事项", "评价数", "平均分", "差评数"],
            [[s.key, s.name, s.ratings, s.average, s.low] for s in figures.satisfaction_guides],
        ),
        Table(
            "satisfaction_channels",
            "各渠道满意度",
            ["渠道", "评价数", "平均分", "差评数"],
            [[channel_label(s.key), s.ratings, s.average, s.low] for s in figures.satisfaction_channels],
        ),
        Table(
            "handoffs",
            "转人工",
            ["指标", "数值"],
            [
                ["对话轮次", handoffs.turns],
                ["转人工轮次", handoffs.handoff_turns],
                ["转人工率", round(handoffs.rate, 4)],
                ["发起的人工会话", handoffs.opened],
                ["已接入", handoffs.claimed],
                ["平均接入等待（分钟）", handoffs.mean_claim_minutes],
                ["接入等待中位数（分钟）", handoffs.median_claim_minutes],
            ],
        ),
        Table(
            "districts",
            "咨询最多的县区",
            ["县区", "对话轮次"],
            [[c.key, c.turns] for c in figures.districts],
        ),
    ]


def _unanswered_table(groups: list[UnansweredGroup]) -> Table:
    return Table(
        "unanswered",
        "高频未答问题（相近问法合并）",
        ["排名", "代表问法", "次数", "问法数", "其他问法举例"],
        [[i, g.label, g.count, g.variants, "；".join(g.examples)] for i, g in enumerate(groups, 1)],
    )


def _forecast_table(forecasts: list[ServiceForecast]) -> Table:
    rows: list[list[Cell]] = []
    for forecast in forecasts:
        for day in forecast.days:
            rows.append(
                [
                    forecast.guide_id,
                    forecast.name,
                    day.day.isoformat(),
                    "是" if day.open else "否",
                    day.expected,
                    day.demand if day.open else None,
                    day.capacity if day.open else None,
                    round(day.shortfall, 1) if day.short else None,
                    METHOD_LABELS[forecast.method],
                ]
            )
    return Table(
        "forecast",
        "预约需求预测与号源",
        [
            "事项编号",
            "事项",
            "日期",
            "大厅开放",
            "预计预约请求",
            "待满足需求",
            "可约号源",
            "号源缺口",
            "预测方法",
        ],
        rows,
    )
