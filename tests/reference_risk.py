"""The drop and spike signals of docs/risk.md in plain Python, for the property test that the
SQL (compile/risk.py) computes the same: one account, one metric, its weekly totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median


@dataclass(frozen=True)
class Tested:
    recent: float
    median: float
    change: float | None
    z: float
    flagged: bool


def robust(
    weeks: Sequence[float], recent_weeks: int, baseline_weeks: int
) -> tuple[float, float, float | None, float]:
    """(recent mean, baseline median, change, z) of weekly totals, week 0 first."""
    recent = sum(weeks[:recent_weeks]) / recent_weeks
    baseline = list(weeks[recent_weeks : recent_weeks + baseline_weeks])
    m = median(baseline)
    mad = median(abs(x - m) for x in baseline)
    z = (recent - m) / max(1.4826 * mad, 1.0)
    change = recent / m - 1 if m else None
    return recent, m, change, z


def drop(weeks: Sequence[float], change: float = -0.4, z: float = -2.0) -> Tested:
    r, m, c, score = robust(weeks, 4, 12)
    return Tested(r, m, c, score, c is not None and c <= change and score <= z)


def spike(weeks: Sequence[float], ratio: float = 3.0, z: float = 4.0) -> Tested:
    r, m, c, score = robust(weeks, 1, 12)
    return Tested(r, m, c, score, r >= ratio * m and score >= z)
