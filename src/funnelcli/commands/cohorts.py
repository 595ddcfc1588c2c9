"""`funnel cohorts` as a library call: entry cohorts by period × stages (count, conversion).

Each row is the report over the ids whose entry falls in one period (periodic.py: one query
for all periods), so a cell means exactly what `funnel report --since START --until END` says
for that period's UTC edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from funnelcli import __version__
from funnelcli.commands.options import RunOptions
from funnelcli.commands.periodic import run_periods
from funnelcli.commands.query import anchors, require_entries_by
from funnelcli.commands.report import funnel_info
from funnelcli.commands.set_aside import enforce
from funnelcli.engine import open_engine
from funnelcli.errors import DataError
from funnelcli.metrics.periods import Calendar, PeriodKind, is_immature, is_partial
from funnelcli.metrics.stats import wilson_interval
from funnelcli.outputs.base import iso
from funnelcli.outputs.cohorts import CohortCell, CohortMatrix, CohortRow
from funnelcli.spec import Funnel


@dataclass(frozen=True)
class CohortsRequest:
    """What `funnel cohorts` is asked (dates are naive UTC)."""

    period: PeriodKind = PeriodKind.month
    as_of: datetime | None = None  # default: the latest time in the data
    since: datetime | None = None  # no cohort before the one containing it
    last: int = 24  # how many periods, up to the one containing as_of


def build_cohorts(
    funnel: Funnel, request: CohortsRequest | None = None, options: RunOptions | None = None
) -> CohortMatrix:
    """The `last` periods up to the one containing as_of (not before `since`), oldest first."""
    request = request or CohortsRequest()
    options = options or RunOptions()
    kind, as_of, since, last = request.period, request.as_of, request.since, request.last
    calendar = Calendar.of(funnel.spec, kind)
    folder = options.cache_folder(funnel)
    with open_engine(
        funnel, options.data_dir, parquet_cache=folder, spark_master=options.spark_master
    ) as engine:
        latest, first = anchors(engine, funnel, as_of)
        enforce(engine, funnel, options)
        if first is None:
            require_entries_by(engine, funnel, as_of)
        anchor = as_of or latest
        if anchor is None or first is None:
            raise DataError("no entry times in the data, so there are no cohorts")
        start = calendar.containing(anchor).start
        oldest = calendar.containing(max(first, since) if since else first).start
        starts: list[datetime] = []
        while start >= oldest and len(starts) < last:
            starts.append(start)
            start = calendar.shift(start, -1)
        periods = [calendar.period(start) for start in reversed(starts)]
        funnels = run_periods(engine, funnel, periods, as_of=anchor, min_n=funnel.spec.min_n)
    rows = [
        CohortRow(
            label=item.period.label,
            start=iso(item.period.start),
            end=iso(item.period.end),
            entered=item.overall.entered,
            immature=is_immature(item.period, funnel.spec.window, anchor),
            partial=is_partial(item.period, anchor),
            cells=tuple(
                CohortCell(
                    count=s.count,
                    conversion_from_entry=s.conversion_from_entry,
                    interval=wilson_interval(s.count, item.overall.entered),
                    ids=s.ids,
                )
                for s in item.overall.stages
            ),
        )
        for item in funnels
    ]
    return CohortMatrix(
        funnel=funnel_info(funnel, as_rows=True),  # its columns are the rows
        period=kind.value,
        week_start=funnel.spec.week_start.value,
        timezone=funnel.spec.timezone,
        as_of=iso(anchor),
        rows=tuple(rows),
        version=__version__,
    )
