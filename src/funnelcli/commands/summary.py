"""`funnel summary` as a library call: the last complete period against the one before it.

Runs the report once over all entries (to find as_of and how far the data reaches back), then
once for the compared periods (current, previous, a year earlier; periodic.py splits one query
by entry period), and compares them (comparison.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from funnelcli import __version__
from funnelcli.commands.options import RunOptions
from funnelcli.commands.periodic import PeriodFunnel, run_periods
from funnelcli.commands.query import anchors, require_entries_by
from funnelcli.commands.report import funnel_info
from funnelcli.commands.set_aside import enforce
from funnelcli.engine import Engine, open_engine
from funnelcli.errors import DataError
from funnelcli.metrics.alerts import Alert
from funnelcli.metrics.comparison import compare_groups
from funnelcli.metrics.funnel import nobody
from funnelcli.metrics.periods import Calendar, PeriodKind, PeriodRange, is_immature
from funnelcli.outputs.base import iso
from funnelcli.outputs.risk import ChurnWatch
from funnelcli.outputs.summary import (
    AlertResult,
    Change,
    GroupComparison,
    PeriodSummary,
    StageComparison,
    Summary,
)
from funnelcli.spec import Funnel, StageSpec
from funnelcli.spec.duration import Duration
from funnelcli.spec.unordered import row_stages


@dataclass(frozen=True)
class SummaryRequest:
    """What `funnel summary` is asked."""

    period: PeriodKind = PeriodKind.week
    as_of: datetime | None = None  # naive UTC; default: the latest time in the data
    breakdown: tuple[str, ...] | None = None  # None: the YAML's first breakdown:
    top: int = 5  # how many of the biggest groups to compare
    min_n: int | None = None  # None: the YAML's min_n:
    alerts: tuple[Alert, ...] = ()
    horizon: Duration | None = None  # for stages without their own horizon: (over within:)
    fail_on_provisional: bool = False  # alerts may fire on provisional numbers


def build_summary(
    funnel: Funnel, request: SummaryRequest | None = None, options: RunOptions | None = None
) -> Summary:
    """Compare the last complete period before `as_of` with the one before it (and a year
    ago)."""
    request = request or SummaryRequest()
    options = options or RunOptions()
    spec = funnel.spec
    kind, as_of = request.period, request.as_of
    min_n = spec.min_n if request.min_n is None else request.min_n
    breakdown = request.breakdown
    if breakdown is None:
        breakdown = tuple(spec.breakdown[:1])
    calendar = Calendar.of(spec, kind)
    window = spec.window
    folder = options.cache_folder(funnel)
    with open_engine(
        funnel, options.data_dir, parquet_cache=folder, spark_master=options.spark_master
    ) as engine:
        latest, first_entry = anchors(engine, funnel, as_of)
        enforce(engine, funnel, options)
        if first_entry is None:
            require_entries_by(engine, funnel, as_of)
        anchor = as_of or latest
        if anchor is None:
            raise DataError("no entry times in the data, so there is no period to summarise")
        current = calendar.last_complete(anchor)
        previous = calendar.period(calendar.shift(current.start, -1))
        year_ago: PeriodRange | None = calendar.period(calendar.year_before(current.start))
        if first_entry is None or year_ago is None or first_entry > year_ago.since:
            year_ago = None

        compared = [current, previous] + ([year_ago] if year_ago is not None else [])
        funnels = run_periods(
            engine, funnel, compared, as_of=anchor, breakdown=breakdown, min_n=min_n
        )
        judged = {
            horizon: _at_horizon(engine, funnel, calendar, anchor, first_entry, horizon, min_n)
            for horizon in dict.fromkeys(h for h in _horizons(spec.stages, request.horizon) if h)
        }
    now, then = funnels[0], funnels[1]
    ago = funnels[2] if len(funnels) > 2 else None

    final = not (is_immature(current, window, anchor) or is_immature(previous, window, anchor))
    stages = compare_groups(now.overall, then.overall, min_n=min_n, final=final)
    stages = tuple(
        judged[h].stage(k, stages[k]) if h is not None else stages[k]
        for k, h in enumerate(_horizons(spec.stages, request.horizon))
    )
    year_ago_stages = None
    if ago is not None and year_ago is not None:
        final_ago = not (
            is_immature(current, window, anchor) or is_immature(year_ago, window, anchor)
        )
        year_ago_stages = compare_groups(now.overall, ago.overall, min_n=min_n, final=final_ago)
    return Summary(
        funnel=funnel_info(funnel),
        period=kind.value,
        week_start=funnel.spec.week_start.value,
        timezone=funnel.spec.timezone,
        as_of=iso(anchor),
        min_n=min_n,
        alerts=tuple(
            _check(alert, stages, request.fail_on_provisional) for alert in request.alerts
        ),
        current=_period(now, window, anchor),
        previous=_period(then, window, anchor),
        year_ago=_period(ago, window, anchor) if ago else None,
        stages=stages,
        year_ago_stages=year_ago_stages,
        breakdown=breakdown,
        groups=_groups(now, then, row_stages(spec), top=request.top, min_n=min_n, final=final),
        version=__version__,
        churn_watch=_churn_watch(funnel, as_of, options),
    )


CHURN_WATCH_TOP = 5  # accounts in the summary's churn-watch section


def _churn_watch(funnel: Funnel, as_of: datetime | None, options: RunOptions) -> ChurnWatch | None:
    """The `risk:` block's top accounts and level counts at the same as-of (docs/risk.md)."""
    if funnel.spec.risk is None:
        return None
    from funnelcli.commands.risk import RiskRequest, build_risk

    report = build_risk(funnel, RiskRequest(as_of=as_of, top=CHURN_WATCH_TOP), options)
    assert report.totals is not None
    return ChurnWatch(as_of=report.as_of, totals=report.totals, accounts=report.accounts)


def _check(alert: Alert, stages: tuple[StageComparison, ...], on_provisional: bool) -> AlertResult:
    """Whether an alert is met: never on a provisional number unless `on_provisional`."""
    change: Change = next(s for s in stages if s.name == alert.stage).metrics[alert.metric]
    return AlertResult(
        expression=alert.text,
        met=(change.final or on_provisional) and alert.is_met(change.current, change.previous),
        current=change.current,
        previous=change.previous,
        final=change.final,
    )


def _horizons(stages: Sequence[StageSpec], default: Duration | None) -> list[Duration | None]:
    """Each stage's comparison horizon: its `horizon:`, else --horizon, else its `within:`;
    none for the first stage (entries are final when a period closes)."""
    return [None] + [s.horizon or default or s.within for s in stages[1:]]


@dataclass(frozen=True)
class _Judged:
    """The latest two periods whose ids are all older than a horizon, compared within it."""

    horizon: Duration
    current: PeriodRange
    previous: PeriodRange
    stages: tuple[StageComparison, ...]

    def stage(self, k: int, nominal: StageComparison) -> StageComparison:
        """Stage k (0-based) as judged at this horizon, under the nominal stage's name."""
        found = self.stages[k]
        return StageComparison(
            name=nominal.name,
            label=nominal.label,
            metrics=found.metrics,
            horizon=str(self.horizon),
            current_period=self.current.label,
            previous_period=self.previous.label,
        )


def _at_horizon(
    engine: Engine,
    funnel: Funnel,
    calendar: Calendar,
    as_of: datetime,
    first_entry: datetime | None,
    horizon: Duration,
    min_n: int,
) -> _Judged:
    """Compare, within `horizon` of entry, the latest complete period whose every id is at
    least `horizon` old at as_of with the one before; final when the data reaches back to
    the earlier one's start."""
    current = calendar.last_complete(as_of)
    while horizon.add_to(current.until) > as_of:
        current = calendar.period(calendar.shift(current.start, -1))
    previous = calendar.period(calendar.shift(current.start, -1))
    now, then = run_periods(
        engine, funnel, [current, previous], as_of=as_of, min_n=min_n, horizon=horizon
    )
    final = first_entry is not None and first_entry <= previous.since
    stages = compare_groups(now.overall, then.overall, min_n=min_n, final=final)
    return _Judged(horizon, current, previous, stages)


def _groups(
    now: PeriodFunnel,
    then: PeriodFunnel,
    stages: Sequence[StageSpec],
    *,
    top: int,
    min_n: int,
    final: bool,
) -> tuple[GroupComparison, ...]:
    """The `top` biggest groups of the current period against the same groups before."""
    previous = {tuple(g.key.items()): g for g in then.groups}
    comparisons = []
    for group in now.groups[:top]:  # biggest first
        before = previous.get(tuple(group.key.items())) or nobody(stages, min_n, group.key)
        comparisons.append(
            GroupComparison(
                key=group.key,
                entered_current=group.entered,
                entered_previous=before.entered,
                stages=compare_groups(group, before, min_n=min_n, final=final),
            )
        )
    return tuple(comparisons)


def _period(item: PeriodFunnel, window: Duration | None, as_of: datetime) -> PeriodSummary:
    period = item.period
    return PeriodSummary(
        label=period.label,
        start=iso(period.start),
        end=iso(period.end),
        since=iso(period.since),
        until=iso(period.until),
        entered=item.overall.entered,
        immature=is_immature(period, window, as_of),
    )
