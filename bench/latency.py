"""Percentiles and the latency table both dialogue benchmarks print."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0–1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def table(rows: Mapping[str, Sequence[float]], unit: str = "ms") -> str:
    """One line per category: turns, p50, p95 and max of its latencies (given in seconds)."""
    width = max([len(name) for name in rows] + [8])
    lines = [
        f"{'category':<{width}}  {'turns':>6}  {'p50 ' + unit:>9}  {'p95 ' + unit:>9}  {'max ' + unit:>9}"
    ]
    for name, values in rows.items():
        ms = [v * 1000 for v in values]
        lines.append(
            f"{name:<{width}}  {len(ms):>6}  {percentile(ms, 0.5):>9.0f}  {percentile(ms, 0.95):>9.0f}"
            f"  {max(ms, default=math.nan):>9.0f}"
        )
    return "\n".join(lines)
