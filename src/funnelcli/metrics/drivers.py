"""Which attribute values go with converting: each group against the rest of the cohort.

Pure. For a group with `a` converted of `n` and the rest with `c` converted of `m`
(b = n − a, d = m − c not converted), docs/drivers.md defines:

- odds ratio OR = (a·d)/(b·c); when a cell is 0, 0.5 is added to all four (Haldane–Anscombe),
  so the ratio and its interval stay finite (`corrected`);
- 95% interval exp(ln OR ± 1.96·√(1/a + 1/b + 1/c + 1/d)) (Woolf's logit interval);
- p-value: the pooled two-proportion z-test the summaries use (metrics/stats.py);
- adjusted p: Benjamini–Hochberg over every group tested in one run (all attributes): the
  false discovery rate is held at the level, where PostHog's correlation shows raw
  significance for hundreds of properties at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from funnelcli.metrics.stats import Z_95, two_proportion_p_value, wilson_interval


@dataclass(frozen=True)
class GroupCount:
    """One value of one attribute: keys that started (reached the `from` stage) and converted."""

    attribute: str
    value: str
    n: int
    converted: int
    binned: bool = False  # a bin of a numeric attribute


@dataclass(frozen=True)
class Comparison:
    """A group against the rest of the cohort."""

    group: GroupCount
    rest_n: int
    rest_converted: int
    rate: float
    rate_low: float
    rate_high: float
    rest_rate: float | None
    odds_ratio: float
    odds_ratio_low: float
    odds_ratio_high: float
    corrected: bool  # 0.5 added to each cell (a zero cell)
    p_value: float
    p_adjusted: float = 1.0


def odds_ratio(a: int, b: int, c: int, d: int) -> tuple[float, float, float, bool]:
    """(OR, low, high, corrected) of the 2×2 table [[a, b], [c, d]] (module docstring)."""
    cells = [float(a), float(b), float(c), float(d)]
    corrected = any(x == 0 for x in cells)
    if corrected:
        cells = [x + 0.5 for x in cells]
    fa, fb, fc, fd = cells
    ratio = (fa * fd) / (fb * fc)
    spread = Z_95 * math.sqrt(sum(1 / x for x in cells))
    log = math.log(ratio)
    return ratio, math.exp(log - spread), math.exp(log + spread), corrected


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Adjusted p-values (step-up, monotone, capped at 1), in the input's order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


def compare(
    groups: Sequence[GroupCount], total_n: int, total_converted: int, min_n: int
) -> tuple[list[Comparison], int]:
    """Every group with at least `min_n` keys (and a rest with at least one) against the rest,
    adjusted together and ranked: smallest adjusted p first, then the largest |ln OR|. With
    how many groups were left out for being below `min_n`."""
    tested: list[Comparison] = []
    skipped = 0
    for group in groups:
        rest_n = total_n - group.n
        if group.n < max(min_n, 1) or rest_n <= 0:
            skipped += 1
            continue
        a, rest_c = group.converted, total_converted - group.converted
        ratio, low, high, corrected = odds_ratio(a, group.n - a, rest_c, rest_n - rest_c)
        interval = wilson_interval(a, group.n)
        assert interval is not None
        p = two_proportion_p_value(a, group.n, rest_c, rest_n)
        assert p is not None
        tested.append(
            Comparison(
                group=group,
                rest_n=rest_n,
                rest_converted=rest_c,
                rate=a / group.n,
                rate_low=interval.low,
                rate_high=interval.high,
                rest_rate=rest_c / rest_n,
                odds_ratio=ratio,
                odds_ratio_low=low,
                odds_ratio_high=high,
                corrected=corrected,
                p_value=p,
            )
        )
    adjusted = benjamini_hochberg([t.p_value for t in tested])
    ranked = [replace(t, p_adjusted=p) for t, p in zip(tested, adjusted, strict=True)]
    ranked.sort(key=lambda t: (t.p_adjusted, -abs(math.log(t.odds_ratio)), t.group.attribute))
    return ranked, skipped


def quantile_bins(edges: Sequence[float]) -> list[tuple[float, str]]:
    """(lower edge, label) bins from a numeric attribute's quantiles (min, q1, …, max):
    distinct edges only; labels `[lo, hi)`, the last one closed."""
    distinct = sorted(set(edges))
    if len(distinct) < 2:
        return [(distinct[0], f"= {_short(distinct[0])}")] if distinct else []
    bins = []
    for i in range(len(distinct) - 1):
        close = "]" if i == len(distinct) - 2 else ")"
        label = f"[{_short(distinct[i])}, {_short(distinct[i + 1])}{close}"
        bins.append((distinct[i] if i else -math.inf, label))
    return bins


def _short(value: float) -> str:
    """A bin edge as short text: whole numbers without decimals, else 3 significant digits."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.3g}"
