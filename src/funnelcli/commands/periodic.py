"""The report split by entry period, in one query: what summaries and cohort matrices read.

`ReportQuery.periods` makes the compiled query tag each id with the index of the period its entry
falls in and add that index to every grouping set; here the rows are split back into one
overall funnel (and its breakdown groups) per period. A period's numbers are exactly what
`funnel report --since START --until END` gives for it (tests/test_cohorts.py checks this).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from funnelcli.commands.report import run_query
from funnelcli.compile import PERIOD_KEY, ReportQuery
from funnelcli.engine import Engine
from funnelcli.metrics.periods import PeriodRange
from funnelcli.outputs.report import GroupResult, StageRow, TimeStats
from funnelcli.spec import Funnel


@dataclass(frozen=True)
class PeriodFunnel:
    """One entry period's funnel and, when asked for, its breakdown groups (biggest first)."""

    period: PeriodRange
    overall: GroupResult
    groups: tuple[GroupResult, ...]


def run_periods(
    engine: Engine,
    funnel: Funnel,
    periods: list[PeriodRange],
    *,
    as_of: datetime | None,
    breakdown: tuple[str, ...] = (),
    min_n: int,
) -> list[PeriodFunnel]:
    """Each period's funnel (ids entering in [since, until) UTC), from one query."""
    from functools import partial

    from funnelcli.metrics.funnel import split_groups
    from funnelcli.metrics.sales import sales_metrics

    if not periods:
        return []
    query = ReportQuery(
        as_of=as_of,
        breakdowns=(breakdown,) if breakdown else (),
        periods=tuple((p.since, p.until) for p in periods),
    )
    compiled, rows = run_query(engine, funnel, query)
    sales = partial(sales_metrics, funnel.spec)
    overall, breakdowns = split_groups(rows, compiled, funnel.spec.stages, min_n, sales)
    by_period = {b.by: b for b in breakdowns}
    totals = {g.key[PERIOD_KEY]: replace(g, key={}) for g in by_period[(PERIOD_KEY,)].groups}
    crossed = by_period.get((PERIOD_KEY, *breakdown)) if breakdown else None
    result = []
    for index, period in enumerate(periods):
        tag = str(index)
        period_overall = totals.get(tag) or empty_group(overall, {}, min_n)
        groups: tuple[GroupResult, ...] = ()
        if crossed is not None:
            groups = tuple(
                replace(g, key={k: v for k, v in g.key.items() if k != PERIOD_KEY})
                for g in crossed.groups
                if g.key[PERIOD_KEY] == tag
            )
        result.append(PeriodFunnel(period=period, overall=period_overall, groups=groups))
    return result


def empty_group(like: GroupResult, key: dict[str, str], min_n: int) -> GroupResult:
    """A funnel nobody entered, shaped like `like`: counts 0, rates and times null."""
    none = TimeStats(n=0, median_days=None, p90_days=None)
    stages = tuple(
        StageRow(
            name=s.name,
            label=s.label,
            count=0,
            conversion_from_previous=None,
            conversion_from_entry=None,
            dropped=None if k == 0 else 0,
            time_from_previous=none,
            time_from_entry=none,
            value_sum=None if s.value_sum is None else 0.0,
        )
        for k, s in enumerate(like.stages)
    )
    return GroupResult(key=key, entered=0, below_min_n=min_n > 0, immature_ids=0, stages=stages)
