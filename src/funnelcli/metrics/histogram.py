"""The time-to-convert histogram's bins, from the keys counted per whole minute
(compile/histogram.py): a unit by the spread (minutes, hours, days, weeks), at most MAX_BINS
bins of a whole number of units, empty bins between kept (docs/semantics.md)."""

from __future__ import annotations

from collections.abc import Iterable
from math import ceil

from funnelcli.outputs.report import Histogram, HistogramBin

MAX_BINS = 20
MINUTES_PER_DAY = 1440
# (unit, its minutes, the spread in minutes below which it is chosen)
UNITS = (
    ("minute", 1, 120),  # under 2 hours
    ("hour", 60, 2 * MINUTES_PER_DAY),  # under 2 days
    ("day", MINUTES_PER_DAY, 84 * MINUTES_PER_DAY),  # under 12 weeks
    ("week", 7 * MINUTES_PER_DAY, None),
)


def histogram(stage: str, minutes: Iterable[tuple[int, int]]) -> Histogram:
    """`stage`'s histogram from (whole minute, keys) pairs (minutes may be negative: a
    backwards time under backfill)."""
    counts: dict[int, int] = {}
    for minute, ids in minutes:
        counts[minute] = counts.get(minute, 0) + ids
    if not counts:
        return Histogram(stage=stage, unit=None, width=0, n=0, bins=())
    low, high = min(counts), max(counts)
    unit, size = next((name, m) for name, m, below in UNITS if below is None or high - low < below)
    width = ceil((high // size - low // size + 1) / MAX_BINS)  # units per bin, at least
    while high // (width * size) - low // (width * size) + 1 > MAX_BINS:  # edges from zero
        width += 1
    step = width * size  # in minutes
    totals: dict[int, int] = {}
    for minute, ids in counts.items():
        totals[minute // step] = totals.get(minute // step, 0) + ids
    bins = tuple(
        HistogramBin(
            start_days=index * step / MINUTES_PER_DAY,
            end_days=(index + 1) * step / MINUTES_PER_DAY,
            count=totals.get(index, 0),
        )
        for index in range(low // step, high // step + 1)
    )
    return Histogram(stage=stage, unit=unit, width=width, n=sum(counts.values()), bins=bins)
