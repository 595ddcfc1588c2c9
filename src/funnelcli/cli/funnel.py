"""`funnel report`, `validate`, `sql` and `sample`."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from funnelcli.spec import Funnel
from funnelcli.cli._base import (
    AsOfOpt,
    ByOpt,
    CacheDirOpt,
    CacheOpt,
    DataOpt,
    DebugOpt,
    FormatOpt,
    FunnelArg,
    MinNOpt,
    OutputOpt,
    ReportFormat,
    SinceOpt,
    UntilOpt,
    _funnel_path,
    _guard,
    app,
    emit,
)


@app.command()
def report(
    funnel: FunnelArg = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: AsOfOpt = None,
    by: ByOpt = None,
    min_n: MinNOpt = None,
    fmt: FormatOpt = ReportFormat.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print the SQL to stderr before running.")
    ] = False,
    cache: CacheOpt = None,
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
) -> None:
    """Count how many leads reached each stage, conversion, drop-off, time and value.

    Example: funnel report funnels/default.yaml --since 2025-01-01 --by channel --format json
    """

    def run() -> None:
        from funnelcli.commands import options as o
        from funnelcli.commands.report import ReportRequest, build_report
        from funnelcli.spec import load_funnel

        definition = load_funnel(_funnel_path(funnel))
        since_at, until_at = o.period(since, until)
        request = ReportRequest(
            since=since_at,
            until=until_at,
            as_of=o.moment(as_of, "--as-of"),
            breakdowns=o.breakdowns(by),
            min_n=min_n,
            strict=strict,
            rejects=rejects,
        )
        with _query_progress(definition, data) as progress:
            options = o.RunOptions(
                data_dir=data,
                cache=cache,
                cache_dir=cache_dir,
                progress=progress,
                explain=(lambda sql: typer.echo(sql, err=True)) if explain else None,
            )
            result = build_report(definition, request, options)
        emit(result, fmt, output)

    _guard(debug, run)


@app.command()
def validate(funnel: FunnelArg = None, data: DataOpt = None, debug: DebugOpt = False) -> None:
    """Check a funnel: the YAML, the files, the columns and that the values can be read.

    Example: funnel validate funnels/default.yaml
    """

    def run() -> None:
        from funnelcli.commands.options import RunOptions
        from funnelcli.commands.validate import validate_funnel
        from funnelcli.render import Format
        from funnelcli.spec import load_funnel

        result = validate_funnel(load_funnel(_funnel_path(funnel)), RunOptions(data_dir=data))
        emit(result, Format.table, None)

    _guard(debug, run)


@app.command()
def sql(
    funnel: FunnelArg = None,
    dialect: Annotated[
        str,
        typer.Option(
            metavar="DIALECT",
            help="SQL dialect to print (sqlglot name: duckdb, postgres, spark, snowflake, …).",
        ),
    ] = "duckdb",
    by: Annotated[
        list[str] | None, typer.Option(metavar="COLUMN[,COLUMN]", help="Breakdowns, as for report.")
    ] = None,
    data: DataOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Print the SQL that `funnel report` runs for a funnel.

    Example: funnel sql funnels/default.yaml --by channel
    """

    def run() -> None:
        from funnelcli.commands import options as o
        from funnelcli.commands.report import ReportRequest, report_sql
        from funnelcli.spec import load_funnel

        definition = load_funnel(_funnel_path(funnel))
        request = ReportRequest(breakdowns=o.breakdowns(by))
        text = report_sql(definition, request, o.RunOptions(data_dir=data), dialect)
        typer.echo(text + ";")

    _guard(debug, run)


@app.command()
def sample(
    rows: Annotated[int, typer.Option(min=1, metavar="N", help="Number of leads.")] = 3000,
    seed: Annotated[
        int, typer.Option(metavar="S", help="Random seed (same seed, same files).")
    ] = 7,
    out: Annotated[
        Path, typer.Option(metavar="DIR", help="Folder to write the CSV files to.")
    ] = Path("sample_data"),
    debug: DebugOpt = False,
) -> None:
    """Write a realistic synthetic CRM export: leads, stage history, monthly spend, contracts.

    Example: funnel sample --rows 100000 --seed 1 --out /tmp/crm
    """

    def run() -> None:
        from funnelcli.commands.sample import generate_sample

        for path in generate_sample(out, rows=rows, seed=seed):
            typer.echo(str(path))

    _guard(debug, run)


@contextmanager
def _query_progress(
    definition: Funnel, data: Path | None
) -> Iterator[Callable[[float], None] | None]:
    """A progress display on stderr while the sources are read, only when stderr is a
    terminal (never in pipes, cron, CI or under NO_COLOR / TERM=dumb)."""
    if not sys.stderr.isatty() or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        yield None
        return
    from rich.console import Console

    from funnelcli.engine import resolve_files
    from funnelcli.render.terminal.progress import QueryProgress

    files = resolve_files(definition, data)
    total = sum(f.stat().st_size for s in files.values() for f in s.files)
    names = ", ".join(sorted({f.name for s in files.values() for f in s.files}))
    with QueryProgress(Console(stderr=True), f"Reading {names}", total) as progress:
        yield progress
