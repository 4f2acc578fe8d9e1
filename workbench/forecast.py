"""Booking demand for the next days per service, against the halls' booking capacity.

What is forecast: booking requests per day (resident turns with the intent ``book_appointment``
about that service), from the daily history with statsmodels: Holt-Winters exponential smoothing
with an additive weekly season when there are at least three weeks of history, simple exponential
smoothing when there is less, the plain mean when there are only a couple of days. Requests made
on a day the halls are closed are counted towards the next open day, whose seats they compete for.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

SEASON_DAYS = 7
MIN_SEASONAL_DAYS = 3 * SEASON_DAYS
MIN_SMOOTHING_DAYS = 4

METHOD_LABELS = {
    "holt_winters": "Holt-Winters 指数平滑（加法周季节）",
    "simple": "简单指数平滑（历史不足三周）",
    "mean": "历史平均（历史不足四天）",
    "none": "无历史数据",
}


@dataclass(frozen=True)
class ForecastDay:
    day: dt.date
    expected: float  # booking requests expected on this day
    open: bool
    capacity: int  # seats bookable that day (0 when the halls are closed)
    demand: float  # requests competing for this day's seats (carried over closed days)

    @property
    def short(self) -> bool:
        return self.open and self.demand > self.capacity

    @property
    def shortfall(self) -> float:
        return max(0.0, self.demand - self.capacity) if self.open else 0.0


@dataclass(frozen=True)
class ServiceForecast:
    guide_id: str
    name: str
    method: str  # a key of METHOD_LABELS
    history_days: int
    days: list[ForecastDay]

    @property
    def short_days(self) -> list[ForecastDay]:
        return [day for day in self.days if day.short]


def predict(history: Sequence[float], horizon: int) -> tuple[np.ndarray, str]:
    """The next ``horizon`` values of a daily series, never negative, and the method used."""
    series = np.asarray(history, dtype=float)
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    if series.size == 0:
        return np.zeros(horizon), "none"
    if series.size < MIN_SMOOTHING_DAYS or not series.any():
        return np.full(horizon, series.mean()), "mean"
    from statsmodels.tsa.holtwinters import ExponentialSmoothing, SimpleExpSmoothing

    with warnings.catch_warnings():
        # Short or flat series make the optimiser warn about convergence; the fit is still usable.
        warnings.simplefilter("ignore")
        if series.size >= MIN_SEASONAL_DAYS:
            model = ExponentialSmoothing(
                series,
                trend=None,
                seasonal="add",
                seasonal_periods=SEASON_DAYS,
                initialization_method="estimated",
            )
            values, method = model.fit().forecast(horizon), "holt_winters"
        else:
            simple = SimpleExpSmoothing(series, initialization_method="estimated")
            values, method = simple.fit().forecast(horizon), "simple"
    values = np.nan_to_num(np.asarray(values, dtype=float), nan=float(series.mean()))
    return np.clip(values, 0.0, None), method


def forecast_service(
    guide_id: str,
    name: str,
    history: Sequence[float],
    first_day: dt.date,
    horizon: int,
    *,
    is_open: Callable[[dt.date], bool],
    capacity: Callable[[dt.date], int],
) -> ServiceForecast:
    """Forecast from ``first_day`` on; ``capacity(day)`` is that day's seats when ``is_open(day)``."""
    values, method = predict(history, horizon)
    days: list[ForecastDay] = []
    carried = 0.0
    for offset, expected in enumerate(values):
        day = first_day + dt.timedelta(days=offset)
        expected = round(float(expected), 1)
        if is_open(day):
            days.append(ForecastDay(day, expected, True, capacity(day), round(carried + expected, 1)))
            carried = 0.0
        else:
            days.append(ForecastDay(day, expected, False, 0, 0.0))
            carried += expected
    return ServiceForecast(guide_id, name, method, len(history), days)
