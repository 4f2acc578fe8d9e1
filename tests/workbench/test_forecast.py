"""The booking forecast: statsmodels' seasonal model on a weekly pattern, the simpler models on
short histories, never negative, and the days where demand exceeds the halls' seats flagged."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from workbench.forecast import forecast_service, predict

WEEK = [30, 34, 32, 31, 28, 6, 4]  # Monday … Sunday
MONDAY = dt.date(2026, 11, 30)


def test_weekly_history_gives_a_weekly_forecast_over_the_horizon() -> None:
    history = np.array(WEEK * 5, dtype=float) + np.tile([0.5, -0.5], 35)[:35]
    values, method = predict(history, 14)
    assert method == "holt_winters"
    assert values.shape == (14,)
    # The season is learnt: weekdays forecast well above weekends, close to the history.
    assert values[:5].min() > 2 * values[5:7].max()
    assert values[:7] == pytest.approx(WEEK, abs=3)


def test_short_histories_degrade_to_simpler_models() -> None:
    values, method = predict([10, 12, 11, 9, 10, 12], 5)
    assert method == "simple" and values.shape == (5,) and 8 < values[0] < 13
    assert predict([4, 6], 3)[1] == "mean" and list(predict([4, 6], 3)[0]) == [5, 5, 5]
    assert predict([], 3)[1] == "none" and list(predict([], 3)[0]) == [0, 0, 0]


def test_never_negative_even_on_a_falling_series() -> None:
    falling = [max(0, 60 - 3 * day) + (10 if day % 7 < 5 else 0) for day in range(28)]
    values, _ = predict(falling, 21)
    assert (values >= 0).all()


def test_shortfall_flagged_where_demand_exceeds_capacity() -> None:
    history = [40, 42, 41, 40, 39, 12, 10] * 4  # 40 a weekday, weekend requests wait for Monday

    def is_open(day: dt.date) -> bool:
        return day.weekday() < 5

    forecast = forecast_service(
        "gongjijin_tiqu",
        "住房公积金提取",
        history,
        MONDAY,
        14,
        is_open=is_open,
        capacity=lambda day: 45 if is_open(day) else 0,
    )
    assert len(forecast.days) == 14 and forecast.days[0].day == MONDAY
    assert all(day.expected >= 0 for day in forecast.days)
    weekend = [day for day in forecast.days if not day.open]
    assert weekend and all(not day.short and day.capacity == 0 for day in weekend)
    # Only the second Monday is short: it also gets the weekend's ~22 requests.
    assert [day.day for day in forecast.short_days] == [MONDAY + dt.timedelta(days=7)]
    second_monday = forecast.short_days[0]
    assert second_monday.demand == pytest.approx(40 + 22, abs=4)
    assert second_monday.shortfall == pytest.approx(second_monday.demand - 45)

    roomy = forecast_service(
        "gongjijin_tiqu", "住房公积金提取", history, MONDAY, 14, is_open=is_open, capacity=lambda day: 200
    )
    assert roomy.short_days == []
