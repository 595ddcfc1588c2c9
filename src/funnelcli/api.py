"""The library API: keyword arguments in, artifacts out. What `import funnelcli` offers.

    import funnelcli as f

    funnel = f.load_funnel("funnels/default.yaml")
    report = f.report(funnel, by="channel", since="2025-01-01")
    report.overall.stages[-1].count        # typed values
    report.to_dict(); report.to_json()     # the versioned JSON document
    report.to_polars()                     # one tidy frame (pip install 'funnelcli[polars]')

Every function takes a Funnel or the path of its YAML; dates as `2025-01-01` text, `date` or
`datetime` (aware times are converted to UTC); the YAML's defaults apply where an argument is
left out, exactly as for the `funnel` command. Errors are FunnelErrors (SpecError, DataError,
QueryError, UsageError) with a one-line message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from funnelcli.commands import options as o
from funnelcli.errors import UsageError

if TYPE_CHECKING:
    from funnelcli.outputs.cohorts import CohortMatrix
    from funnelcli.outputs.drivers import Drivers
    from funnelcli.outputs.report import FunnelReport
    from funnelcli.outputs.risk import RiskReport
    from funnelcli.outputs.roi import RoiReport
    from funnelcli.outputs.stalled import StalledList
    from funnelcli.outputs.summary import Summary
    from funnelcli.outputs.trace import Trace
    from funnelcli.outputs.validation import ValidationResult
    from funnelcli.spec import Funnel

By = str | Iterable[str | Iterable[str]] | None
_Kind = TypeVar("_Kind", bound=StrEnum)


def load_funnel(path: str | Path) -> Funnel:
    """Read and validate a funnel YAML file (a SpecError names file:line: key)."""
    from funnelcli.spec import load_funnel as load

    return load(path)


def report(
    funnel: Funnel | str | Path,
    *,
    since: o.Moment | None = None,
    until: o.Moment | None = None,
    as_of: o.Moment | None = None,
    by: By = None,
    min_n: int | None = None,
    strict: bool = False,
    rejects: str | Path | None = None,
    histogram: str | None = None,
    top: int | None = None,
    data_dir: str | Path | None = None,
    cache: bool | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[float], None] | None = None,
    explain: Callable[[str], None] | None = None,
    spark_master: str | None = None,
) -> FunnelReport:
    """The funnel over its sources (DESIGN.md §3): the entry cohort [since, until) (read in the
    YAML's `timezone:` when they carry no offset), counted
    `as_of` (default: the latest time in the data), split `by` attributes ("channel",
    ["channel", "channel,segment"]; default: the YAML's breakdown:)."""
    from funnelcli.commands.report import ReportRequest, build_report

    definition = _funnel(funnel)
    start, end = o.period(since, until, definition.spec.timezone)
    request = ReportRequest(
        since=start,
        until=end,
        as_of=o.moment(as_of, "as_of"),
        breakdowns=o.breakdowns(by),
        min_n=min_n,
        strict=strict,
        rejects=_path(rejects),
        histogram=histogram,
        top=top,
    )
    options = _options(data_dir, cache, cache_dir, progress, explain, spark_master)
    return build_report(definition, request, options)


def summary(
    funnel: Funnel | str | Path,
    *,
    period: str = "week",
    as_of: o.Moment | None = None,
    by: str | Sequence[str] | None = None,
    top: int = 5,
    min_n: int | None = None,
    fail_on: Iterable[str] = (),
    horizon: str | None = None,
    fail_on_provisional: bool = False,
    data_dir: str | Path | None = None,
    cache: bool | None = None,
    cache_dir: str | Path | None = None,
    spark_master: str | None = None,
) -> Summary:
    """The last complete `period` ("week" or "month") before `as_of` against the one before
    (and a year earlier); stages with a `horizon` ("14d"; else their own horizon: or within:)
    are compared at equal age; `fail_on` alerts are evaluated on judged numbers (any, with
    `fail_on_provisional`) (Summary.alerts_met)."""
    from funnelcli.commands.summary import SummaryRequest, build_summary
    from funnelcli.metrics.alerts import parse_alert
    from funnelcli.metrics.periods import PeriodKind

    definition = _funnel(funnel)
    from funnelcli.spec.unordered import row_stages  # order: any: its rows

    stages = [stage.name for stage in row_stages(definition.spec)]
    groups = o.breakdowns(by)
    request = SummaryRequest(
        period=_kind(period, PeriodKind),
        as_of=o.moment(as_of, "as_of"),
        breakdown=groups[0] if groups else None,
        top=top,
        min_n=min_n,
        alerts=tuple(parse_alert(text, stages) for text in fail_on),
        horizon=o.duration(horizon, "horizon"),
        fail_on_provisional=fail_on_provisional,
    )
    options = _options(data_dir, cache, cache_dir, spark_master=spark_master)
    return build_summary(definition, request, options)


def cohorts(
    funnel: Funnel | str | Path,
    *,
    period: str = "month",
    as_of: o.Moment | None = None,
    since: o.Moment | None = None,
    last: int = 24,
    data_dir: str | Path | None = None,
    cache: bool | None = None,
    cache_dir: str | Path | None = None,
    spark_master: str | None = None,
) -> CohortMatrix:
    """Entry cohorts by `period` × stages: the `last` periods up to the one containing
    `as_of`, none before `since`."""
    from funnelcli.commands.cohorts import CohortsRequest, build_cohorts
    from funnelcli.metrics.periods import PeriodKind

    definition = _funnel(funnel)
    request = CohortsRequest(
        period=_kind(period, PeriodKind),
        as_of=o.moment(as_of, "as_of"),
        since=o.moment(since, "since", definition.spec.timezone),
        last=last,
    )
    options = _options(data_dir, cache, cache_dir, spark_master=spark_master)
    return build_cohorts(definition, request, options)


def roi(
    funnel: Funnel | str | Path,
    *,
    since: o.Moment | None = None,
    until: o.Moment | None = None,
    as_of: o.Moment | None = None,
    data_dir: str | Path | None = None,
    cache: bool | None = None,
    cache_dir: str | Path | None = None,
    spark_master: str | None = None,
) -> RoiReport:
    """Spend against revenue per lead channel for the entry cohort [since, until)."""
    from funnelcli.commands.roi import RoiRequest, build_roi

    definition = _funnel(funnel)
    start, end = o.period(since, until, definition.spec.timezone)
    request = RoiRequest(since=start, until=end, as_of=o.moment(as_of, "as_of"))
    options = _options(data_dir, cache, cache_dir, spark_master=spark_master)
    return build_roi(definition, request, options)


def risk(
    funnel: Funnel | str | Path,
    *,
    as_of: o.Moment | None = None,
    by: str | None = None,
    top: int | None = None,
    min_score: float = 1,
    backtest: bool = False,
    horizon_days: int = 90,
    data_dir: str | Path | None = None,
    cache: bool | None = None,
    cache_dir: str | Path | None = None,
) -> RiskReport:
    """Accounts at churn risk at `as_of` (a point in time), or the backtest (docs/risk.md)."""
    from funnelcli.commands.risk import RiskRequest, build_risk

    request = RiskRequest(
        as_of=o.moment(as_of, "as_of"),
        by=by,
        top=top,
        min_score=min_score,
        backtest=backtest,
        horizon_days=horizon_days,
    )
    return build_risk(_funnel(funnel), request, _options(data_dir, cache, cache_dir))


def validate(
    funnel: Funnel | str | Path, *, data_dir: str | Path | None = None
) -> ValidationResult:
    """Check the YAML, the files, every referenced column and that every date and amount can
    be read; the first problem is raised."""
    from funnelcli.commands.validate import validate_funnel

    return validate_funnel(_funnel(funnel), _options(data_dir))


def report_sql(
    funnel: Funnel | str | Path,
    *,
    by: By = None,
    histogram: str | None = None,
    top: int | None = None,
    dialect: str = "duckdb",
    data_dir: str | Path | None = None,
) -> str:
    """The report's SQL (its grouped-by-key form) in a sqlglot dialect; with `histogram` (a
    stage) also its histogram query."""
    from funnelcli.commands.report import ReportRequest
    from funnelcli.commands.report import report_sql as compiled_sql

    request = ReportRequest(breakdowns=o.breakdowns(by), histogram=histogram, top=top)
    return compiled_sql(_funnel(funnel), request, _options(data_dir), dialect)


def stalled(
    funnel: Funnel | str | Path,
    *,
    stage: str,
    dropped: bool = False,
    older_than: str | None = None,
    by: Sequence[str] = (),
    since: o.Moment | None = None,
    until: o.Moment | None = None,
    as_of: o.Moment | None = None,
    data_dir: str | Path | None = None,
    cache: bool | None = None,
    cache_dir: str | Path | None = None,
) -> StalledList:
    """The cohort's ids that reached `stage` and not the next one, still inside the window
    (`dropped=True`: the window ran out), longest wait first; `older_than` e.g. "14d"."""
    from funnelcli.commands.stalled import StalledRequest, build_stalled
    from funnelcli.spec.duration import Duration

    definition = _funnel(funnel)
    start, end = o.period(since, until, definition.spec.timezone)
    try:
        waited = Duration.parse(older_than) if older_than is not None else None
    except ValueError as error:
        raise UsageError(f"older_than: {error}") from None
    request = StalledRequest(
        since=start,
        until=end,
        as_of=o.moment(as_of, "as_of"),
        stage=stage,
        dropped=dropped,
        older_than=waited,
        by=tuple(by),
    )
    return build_stalled(definition, request, _options(data_dir, cache, cache_dir))


def trace(
    funnel: Funnel | str | Path,
    id: str,
    *,
    since: o.Moment | None = None,
    until: o.Moment | None = None,
    as_of: o.Moment | None = None,
    data_dir: str | Path | None = None,
    cache: bool | None = None,
    cache_dir: str | Path | None = None,
) -> Trace:
    """One key's evidence rows and the rule that decided each stage (docs/semantics.md)."""
    from funnelcli.commands.trace import TraceRequest, build_trace

    definition = _funnel(funnel)
    start, end = o.period(since, until, definition.spec.timezone)
    request = TraceRequest(since=start, until=end, as_of=o.moment(as_of, "as_of"), id=id)
    return build_trace(definition, request, _options(data_dir, cache, cache_dir))


def drivers(
    funnel: Funnel | str | Path,
    *,
    stage: str,
    from_stage: str | None = None,
    min_n: int | None = None,
    by: Sequence[str] = (),
    numeric: Sequence[str] = (),
    since: o.Moment | None = None,
    until: o.Moment | None = None,
    as_of: o.Moment | None = None,
    data_dir: str | Path | None = None,
    cache: bool | None = None,
    cache_dir: str | Path | None = None,
) -> Drivers:
    """Each attribute value against the rest of the ids that reached `from_stage`: odds ratio
    of reaching `stage`, 95% interval, Benjamini–Hochberg adjusted p (docs/drivers.md)."""
    from funnelcli.commands.drivers import DriversRequest, build_drivers

    definition = _funnel(funnel)
    start, end = o.period(since, until, definition.spec.timezone)
    request = DriversRequest(
        since=start,
        until=end,
        as_of=o.moment(as_of, "as_of"),
        stage=stage,
        from_stage=from_stage,
        min_n=min_n,
        by=tuple(by),
        numeric=tuple(numeric),
    )
    return build_drivers(definition, request, _options(data_dir, cache, cache_dir))


def _funnel(funnel: Funnel | str | Path) -> Funnel:
    if isinstance(funnel, str | Path):
        return load_funnel(funnel)
    return funnel


def _path(path: str | Path | None) -> Path | None:
    return None if path is None else Path(path)


def _kind(value: str, kind: type[_Kind]) -> _Kind:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise UsageError(f"period: expected one of {choices}, got {value!r}") from None


def _options(
    data_dir: str | Path | None,
    cache: bool | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[float], None] | None = None,
    explain: Callable[[str], None] | None = None,
    spark_master: str | None = None,
) -> o.RunOptions:
    """`spark_master`: run on Spark (engine/spark.py; a session already running is used)."""
    return o.RunOptions(
        data_dir=_path(data_dir),
        cache=cache,
        cache_dir=_path(cache_dir),
        progress=progress,
        explain=explain,
        spark_master=spark_master,
    )
