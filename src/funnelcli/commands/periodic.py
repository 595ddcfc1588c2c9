"""The report split by entry period, in one query: what summaries and cohort matrices read.

`ReportQuery.periods` makes the compiled query tag each id with the index of the period its entry
falls in and split every grouping set by it (GroupRow.period); here the rows become one overall
funnel (and its breakdown groups) per period. A period's numbers are exactly what
`funnel report --since START --until END` gives for it (tests/test_cohorts.py checks this).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from funnelcli.commands.query import run_report_query
from funnelcli.compile import ReportQuery
from funnelcli.engine import Engine
from funnelcli.metrics.funnel import biggest_first, group_result, nobody
from funnelcli.metrics.periods import PeriodRange
from funnelcli.metrics.sales import sales_metrics
from funnelcli.outputs.report import GroupResult
from funnelcli.spec import Funnel, Order
from funnelcli.spec.duration import Duration
from funnelcli.spec.unordered import row_stages


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
    horizon: Duration | None = None,
) -> list[PeriodFunnel]:
    """Each period's funnel (ids entering in [since, until) UTC), from one query; with
    `horizon`, a stage counts only when reached within it of entry."""
    if not periods:
        return []
    query = ReportQuery(
        as_of=as_of,
        breakdowns=(breakdown,) if breakdown else (),
        periods=tuple((p.since, p.until) for p in periods),
        horizon=horizon,
    )
    compiled, rows = run_report_query(engine, funnel, query)
    result = compiled.columns.parse(rows)
    stages = row_stages(funnel.spec)  # order: any: stages done, no won stage
    sales = partial(sales_metrics, funnel.spec) if funnel.spec.order is not Order.any else None
    totals = {row.period: row for row in result.grouped((), by_period=True)}
    crossed = result.grouped(breakdown, by_period=True) if breakdown else []
    found = []
    for index, period in enumerate(periods):
        total = totals.get(index)
        overall = group_result(total, stages, min_n, sales) if total else nobody(stages, min_n)
        groups = biggest_first((g for g in crossed if g.period == index), stages, min_n, sales)
        found.append(PeriodFunnel(period=period, overall=overall, groups=groups))
    return found
