"""`funnel report`, `validate` and `sql`: parse the options, call commands/, render."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from funnelcli.cli.options import (
    AsOfOpt,
    ByOpt,
    CacheDirOpt,
    CacheOpt,
    DataOpt,
    DebugOpt,
    EngineKind,
    EngineOpt,
    FormatOpt,
    FunnelArg,
    HistogramOpt,
    MaxRejectedOpt,
    MinNOpt,
    OutputOpt,
    ReportFormat,
    SinceOpt,
    SparkMasterOpt,
    TopOpt,
    UntilOpt,
    ValidateFormat,
)
from funnelcli.cli.root import app
from funnelcli.cli.runtime import (
    emit,
    funnel_path,
    guard,
    note,
    query_progress,
    run_options,
    write_file,
)


@app.command()
def report(
    funnel: FunnelArg = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: AsOfOpt = None,
    by: ByOpt = None,
    top: TopOpt = None,
    min_n: MinNOpt = None,
    fmt: FormatOpt = ReportFormat.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print the SQL to stderr before running.")
    ] = False,
    cache: CacheOpt = None,
    engine: EngineOpt = EngineKind.duckdb,
    spark: SparkMasterOpt = None,
    cache_dir: CacheDirOpt = None,
    debug: DebugOpt = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            metavar="FILE",
            help="Write the rejected values (file, line, column, value, reason) as CSV.",
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail (exit 1) if any value is rejected.")
    ] = False,
    histogram: HistogramOpt = None,
    max_rejected: MaxRejectedOpt = None,
) -> None:
    """Count how many leads reached each stage, conversion, drop-off, time and value.

    Example: funnel report funnels/default.yaml --since 2025-01-01 --by channel --format json

    Example: funnel report funnels/default.yaml --histogram paid --by owner --top 3
    """

    def run() -> None:
        from funnelcli.commands import options as o
        from funnelcli.commands.report import ReportRequest, build_report
        from funnelcli.spec import load_funnel

        definition = load_funnel(funnel_path(funnel))
        o.check_outputs(definition, data, output=output, rejects=rejects)
        since_at, until_at = o.period(since, until, definition.spec.timezone)
        request = ReportRequest(
            since=since_at,
            until=until_at,
            as_of=o.moment(as_of, "--as-of"),
            breakdowns=o.breakdowns(by),
            min_n=min_n,
            strict=strict,
            rejects=rejects,
            histogram=histogram,
            top=top,
        )
        with query_progress(definition, data) as progress:
            options = run_options(
                data,
                cache,
                cache_dir,
                max_rejected,
                engine,
                spark,
                progress=progress,
                explain=(lambda sql: typer.echo(sql, err=True)) if explain else None,
            )
            result = build_report(definition, request, options)
        if rejects is not None:
            note(f"Wrote {rejects}")
        emit(result, fmt, output)

    guard(debug, run)


@app.command()
def validate(
    funnel: FunnelArg = None,
    data: DataOpt = None,
    fmt: Annotated[
        ValidateFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ValidateFormat.table,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Check a funnel: the YAML, the files, the columns and that the values can be read.

    With --format json a valid funnel is one funnelcli.validation/1 document; an invalid one
    exits 1 with the error on stderr, as in the table format.

    Example: funnel validate funnels/default.yaml --format json
    """

    def run() -> None:
        from funnelcli.commands.options import RunOptions
        from funnelcli.commands.validate import validate_funnel
        from funnelcli.spec import load_funnel

        result = validate_funnel(load_funnel(funnel_path(funnel)), RunOptions(data_dir=data))
        emit(result, fmt, output)

    guard(debug, run)


@app.command()
def sql(
    funnel: FunnelArg = None,
    dialect: Annotated[
        str,
        typer.Option(
            metavar="DIALECT",
            help=(
                "duckdb (the query), or spark, databricks, postgres: a runnable script "
                "(typed source views, then the query)."
            ),
        ),
    ] = "duckdb",
    by: ByOpt = None,
    top: TopOpt = None,
    histogram: HistogramOpt = None,
    data: DataOpt = None,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Print the SQL that `funnel report` runs for a funnel (and its --histogram query).

    Example: funnel sql funnels/default.yaml --by channel
    """

    def run() -> None:
        from funnelcli.commands import options as o
        from funnelcli.commands.report import ReportRequest, report_sql
        from funnelcli.spec import load_funnel

        definition = load_funnel(funnel_path(funnel))
        request = ReportRequest(breakdowns=o.breakdowns(by), histogram=histogram, top=top)
        text = report_sql(definition, request, o.RunOptions(data_dir=data), dialect)
        if output is None:
            typer.echo(text + ";")
        else:
            write_file(output, text + ";\n")

    guard(debug, run)
