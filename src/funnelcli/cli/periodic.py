"""`funnel summary` and `funnel cohorts`: periods, comparisons, alerts (exit 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from funnelcli.cli.options import (
    AsOfOpt,
    CacheDirOpt,
    CacheOpt,
    DataOpt,
    DebugOpt,
    EngineKind,
    EngineOpt,
    FormatOpt,
    FunnelArg,
    MaxRejectedOpt,
    OutputOpt,
    PeriodOpt,
    ReportFormat,
    SinceOpt,
    SparkMasterOpt,
    SummaryFormat,
)
from funnelcli.cli.root import app
from funnelcli.cli.runtime import emit, funnel_path, guard, run_options
from funnelcli.errors import UsageError
from funnelcli.metrics.periods import PeriodKind

if TYPE_CHECKING:
    from funnelcli.outputs.summary import Summary

ALERT_EXIT_CODE = 3


@app.command()
def summary(
    funnel: FunnelArg = None,
    period: PeriodOpt = PeriodKind.week,
    as_of: AsOfOpt = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            metavar="COLUMN[,COLUMN]",
            help="Compare the biggest groups of this breakdown ('a,b' crosses two; once). "
            "Default: the YAML's first breakdown:.",
        ),
    ] = None,
    top: Annotated[
        int, typer.Option(min=0, metavar="N", help="How many of the biggest groups to show.")
    ] = 5,
    min_n: Annotated[
        int | None,
        typer.Option(
            "--min-n",
            min=0,
            metavar="N",
            help="Call no change significant unless both periods have at least N "
            "(the rate's denominator; default: YAML min_n, 30).",
        ),
    ] = None,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            metavar="EXPR",
            help="Exit 3 when the alert is met (repeatable), e.g. "
            "'paid.conversion_from_previous < 0.15' or 'qualified.count drops 20%'.",
        ),
    ] = None,
    horizon: Annotated[
        str | None,
        typer.Option(
            "--horizon",
            metavar="DURATION",
            help="Compare each stage within this long of entry (e.g. 14d), on the latest periods "
            "old enough to judge; a stage's own horizon: wins; default: its within:.",
        ),
    ] = None,
    fail_on_provisional: Annotated[
        bool,
        typer.Option(
            "--fail-on-provisional", help="Let --fail-on fire on provisional (unjudged) numbers."
        ),
    ] = False,
    fmt: Annotated[
        SummaryFormat, typer.Option("--format", "-f", help="Output format.")
    ] = SummaryFormat.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    cache: CacheOpt = None,
    engine: EngineOpt = EngineKind.duckdb,
    spark: SparkMasterOpt = None,
    cache_dir: CacheDirOpt = None,
    debug: DebugOpt = False,
    max_rejected: MaxRejectedOpt = None,
) -> None:
    """Compare the last complete week or month with the one before (and a year earlier).

    Exit code 3 when a --fail-on alert is met (the summary is still written).

    Example: funnel summary --period week --format html --output weekly.html
    """

    def run() -> Summary:
        from funnelcli.commands import options as o
        from funnelcli.commands.summary import SummaryRequest, build_summary
        from funnelcli.metrics.alerts import parse_alert
        from funnelcli.spec import load_funnel

        definition = load_funnel(funnel_path(funnel))
        o.check_outputs(definition, data, output=output)
        from funnelcli.spec.unordered import row_stages  # order: any: its rows

        stages = [stage.name for stage in row_stages(definition.spec)]
        groups = o.breakdowns(by)
        if groups is not None and len(groups) > 1:
            raise UsageError("--by: a summary compares the groups of one breakdown; give it once")
        request = SummaryRequest(
            period=period,
            as_of=o.moment(as_of, "--as-of"),
            breakdown=groups[0] if groups else None,
            top=top,
            min_n=min_n,
            alerts=tuple(parse_alert(text, stages) for text in fail_on or ()),
            horizon=o.duration(horizon, "--horizon"),
            fail_on_provisional=fail_on_provisional,
        )
        options = run_options(data, cache, cache_dir, max_rejected, engine, spark)
        result = build_summary(definition, request, options)
        emit(result, fmt, output)
        return result

    result = guard(debug, run)
    if result.alerts_met:
        raise typer.Exit(ALERT_EXIT_CODE)


@app.command()
def cohorts(
    funnel: FunnelArg = None,
    period: PeriodOpt = PeriodKind.month,
    as_of: AsOfOpt = None,
    since: SinceOpt = None,
    last: Annotated[
        int, typer.Option(min=1, metavar="N", help="How many periods, up to the one of --as-of.")
    ] = 24,
    fmt: FormatOpt = ReportFormat.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    cache: CacheOpt = None,
    engine: EngineOpt = EngineKind.duckdb,
    spark: SparkMasterOpt = None,
    cache_dir: CacheDirOpt = None,
    debug: DebugOpt = False,
    max_rejected: MaxRejectedOpt = None,
) -> None:
    """Entry cohorts by month or week × stages: count and conversion from entry.

    Example: funnel cohorts funnels/default.yaml --period month --last 12
    """

    def run() -> None:
        from funnelcli.commands import options as o
        from funnelcli.commands.cohorts import CohortsRequest, build_cohorts
        from funnelcli.spec import load_funnel

        definition = load_funnel(funnel_path(funnel))
        o.check_outputs(definition, data, output=output)
        request = CohortsRequest(
            period=period,
            as_of=o.moment(as_of, "--as-of"),
            since=o.moment(since, "--since", definition.spec.timezone),
            last=last,
        )
        options = run_options(data, cache, cache_dir, max_rejected, engine, spark)
        matrix = build_cohorts(definition, request, options)
        emit(matrix, fmt, output)

    guard(debug, run)
