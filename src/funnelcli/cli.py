"""The `funnel` command: thin typer layer that parses options, calls the library, picks a renderer.

Exit codes: 0 ok · 1 data, spec or runtime error · 2 usage error · 3 an alert condition was met.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from funnelcli import __version__
from funnelcli.errors import FunnelError, UsageError
from funnelcli.periods import PeriodKind
from funnelcli.render import Format, SummaryFormat

if TYPE_CHECKING:
    from rich.console import Console

    from funnelcli.cohorts import CohortMatrix
    from funnelcli.spec import Funnel
    from funnelcli.summary import Summary

app = typer.Typer(
    name="funnel",
    help="Funnel analysis for B2B CRM exports: lead → qualified → trial → paid → renewed.\n\n"
    "Example: funnel report funnels/default.yaml --by channel",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

T = TypeVar("T")
DEFAULT_FUNNELS = (Path("funnel.yaml"), Path("funnels/default.yaml"))

FunnelArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="[FUNNEL]",
        help="Funnel YAML file. Default: ./funnel.yaml, else funnels/default.yaml.",
        show_default=False,
    ),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")]
DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        metavar="DIR",
        help="Resolve relative source paths against DIR instead of the YAML's folder.",
        exists=True,
        file_okay=False,
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(metavar="DATE", help="Entry cohort start (inclusive), e.g. 2025-01-01."),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(metavar="DATE", help="Entry cohort end (exclusive), e.g. 2025-04-01."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", metavar="DATE", help="Maturity anchor; default: the latest time in the data."
    ),
]
ByOpt = Annotated[
    list[str] | None,
    typer.Option(
        metavar="COLUMN[,COLUMN]",
        help="Break down by a column (repeatable; 'a,b' crosses two). "
        "Default: the YAML's breakdown:.",
    ),
]
MinNOpt = Annotated[
    int | None,
    typer.Option(
        "--min-n",
        min=0,
        metavar="N",
        help="Mark groups with fewer entries (default: YAML min_n, 30).",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", metavar="FILE", help="Write to FILE (atomically) instead of stdout."
    ),
]
CacheOpt = Annotated[
    bool | None,
    typer.Option(
        "--cache/--no-cache",
        help="Read sources through their Parquet copies in the cache, built on first use and "
        "rebuilt when a file changes. Default: the YAML's cache: setting (off).",
        show_default=False,
    ),
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        metavar="DIR",
        help="Cache folder. Default: $FUNNELCLI_CACHE_DIR, else $XDG_CACHE_HOME/funnelcli, "
        "else ~/.cache/funnelcli.",
        file_okay=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"funnel {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Funnel analysis for B2B CRM exports, from a YAML definition, on DuckDB."""


def _fail(error: FunnelError) -> NoReturn:
    typer.echo(f"Error: {error}", err=True)
    raise typer.Exit(error.exit_code)


def _guard(debug: bool, action: Callable[[], T]) -> T:
    """Run a command body; a FunnelError becomes one line on stderr and its exit code."""
    try:
        return action()
    except FunnelError as error:
        if debug:
            raise
        _fail(error)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(130) from None
    except Exception as error:  # a bug, not bad input: still one line unless --debug
        if debug:
            raise
        typer.echo(
            f"Error: internal error ({type(error).__name__}: {error}); rerun with --debug "
            "for the traceback and please report it",
            err=True,
        )
        raise typer.Exit(1) from None


def _funnel_path(path: Path | None) -> Path:
    if path is not None:
        return path
    for candidate in DEFAULT_FUNNELS:
        if candidate.is_file():
            return candidate
    raise UsageError("no FUNNEL given and neither ./funnel.yaml nor ./funnels/default.yaml exists")


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"{option}: expected a date like 2025-03-01 or 2025-03-01T08:00, got {value!r}"
        ) from None
    if moment.tzinfo is not None:  # the data's times are compared in UTC
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _breakdowns(by: list[str] | None, definition: Funnel) -> tuple[tuple[str, ...], ...]:
    """`--by` values (`a,b` crosses two columns); without any, the YAML's `breakdown:`."""
    if not by:
        return tuple((name,) for name in definition.spec.breakdown)
    groups = []
    for item in by:
        names = tuple(part.strip() for part in item.split(",") if part.strip())
        if not names:
            raise UsageError("--by needs a column name, e.g. --by channel or --by channel,segment")
        groups.append(names)
    return tuple(groups)


def _emit(text: str, output: Path | None, *, quiet_unless_tty: bool = False) -> None:
    """Write to stdout or atomically to `output`; `quiet_unless_tty` (the commands meant for
    cron) drops the "Wrote FILE" note unless stderr is a terminal, so a run that worked is
    silent and cron mails only errors."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from funnelcli.output import write_atomic

    write_atomic(output, text)
    if not quiet_unless_tty or sys.stderr.isatty():
        typer.echo(f"Wrote {output}", err=True)


@app.command()
def report(
    funnel: FunnelArg = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: AsOfOpt = None,
    by: ByOpt = None,
    min_n: MinNOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
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
        from funnelcli.compile import ReportQuery
        from funnelcli.report import build_report
        from funnelcli.spec import load_funnel

        definition = load_funnel(_funnel_path(funnel))
        query = ReportQuery(
            since=_moment(since, "--since"),
            until=_moment(until, "--until"),
            as_of=_moment(as_of, "--as-of"),
            breakdowns=_breakdowns(by, definition),
        )
        if query.since and query.until and query.since >= query.until:
            raise UsageError("--since must be before --until")
        with _query_progress(definition, data) as progress:
            result = build_report(
                definition,
                query,
                min_n=min_n,
                data_dir=data,
                explain=(lambda sql: typer.echo(sql, err=True)) if explain else None,
                strict=strict,
                rejects_out=rejects,
                cache=cache,
                cache_dir=cache_dir,
                progress=progress,
            )
        if fmt is Format.table and output is None:
            from funnelcli.render.terminal import print_report

            print_report(result, _console())
            return
        from funnelcli.render import render_text

        _emit(render_text(result, fmt, width=_width()), output)

    _guard(debug, run)


@app.command()
def validate(funnel: FunnelArg = None, data: DataOpt = None, debug: DebugOpt = False) -> None:
    """Check a funnel: the YAML, the files, the columns and that the values can be read.

    Example: funnel validate funnels/default.yaml
    """

    def run() -> None:
        from funnelcli.spec import load_funnel
        from funnelcli.validate import validate_funnel

        path = _funnel_path(funnel)
        for line in validate_funnel(load_funnel(path), data):
            typer.echo(line)

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
        from funnelcli.compile import ReportQuery
        from funnelcli.engine import open_engine
        from funnelcli.report import compile_for
        from funnelcli.spec import load_funnel

        definition = load_funnel(_funnel_path(funnel))
        query = ReportQuery(breakdowns=_breakdowns(by, definition))
        with open_engine(definition, data) as engine:
            compiled = compile_for(definition, engine, query)
        try:
            text = compiled.sql(dialect=dialect)
        except Exception as exc:  # sqlglot raises plain errors for unknown dialects
            raise UsageError(f"--dialect {dialect}: {exc}") from None
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
        from funnelcli.sample import generate_sample

        for path in generate_sample(out, rows=rows, seed=seed):
            typer.echo(str(path))

    _guard(debug, run)


PeriodOpt = Annotated[
    PeriodKind,
    typer.Option("--period", help="Period length: ISO weeks (week_start: in the YAML) or months."),
]
ALERT_EXIT_CODE = 3


@app.command()
def summary(
    funnel: FunnelArg = None,
    period: PeriodOpt = PeriodKind.week,
    as_of: AsOfOpt = None,
    by: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN[,COLUMN]",
            help="Compare the biggest groups of this breakdown. Default: the YAML's first "
            "breakdown:.",
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
    fmt: Annotated[
        SummaryFormat, typer.Option("--format", "-f", help="Output format.")
    ] = SummaryFormat.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Compare the last complete week or month with the one before (and a year earlier).

    Exit code 3 when a --fail-on alert is met (the summary is still written).

    Example: funnel summary --period week --format html --output weekly.html
    """

    def run() -> Summary:
        from funnelcli.alerts import parse_alert
        from funnelcli.spec import load_funnel
        from funnelcli.summary import build_summary

        definition = load_funnel(_funnel_path(funnel))
        stages = [stage.name for stage in definition.spec.stages]
        alerts = tuple(parse_alert(text, stages) for text in fail_on or ())
        groups = _breakdowns([by] if by else None, definition)
        result = build_summary(
            definition,
            period,
            as_of=_moment(as_of, "--as-of"),
            breakdown=groups[0] if groups else (),
            top=top,
            min_n=min_n,
            alerts=alerts,
            data_dir=data,
        )
        if fmt is SummaryFormat.table:
            from funnelcli.render.terminal.periodic import plain_text, summary_renderables

            renderables = summary_renderables(result)
            if output is None:
                _print_all(renderables)
            else:
                _emit(plain_text(renderables, width=_width()), output, quiet_unless_tty=True)
        elif fmt is SummaryFormat.html:
            from funnelcli.render.html import summary_html

            _emit(summary_html(result), output, quiet_unless_tty=True)
        elif fmt is SummaryFormat.markdown:
            from funnelcli.render.summary_out import summary_markdown

            _emit(summary_markdown(result), output, quiet_unless_tty=True)
        else:
            from funnelcli.render.summary_out import summary_json

            _emit(summary_json(result), output, quiet_unless_tty=True)
        return result

    result = _guard(debug, run)
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
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Entry cohorts by month or week × stages: count and conversion from entry.

    Example: funnel cohorts funnels/default.yaml --period month --last 12
    """

    def run() -> None:
        from funnelcli.cohorts import build_cohorts
        from funnelcli.spec import load_funnel

        definition = load_funnel(_funnel_path(funnel))
        matrix = build_cohorts(
            definition,
            period,
            as_of=_moment(as_of, "--as-of"),
            since=_moment(since, "--since"),
            last=last,
            data_dir=data,
        )
        _emit_cohorts(matrix, fmt, output)

    _guard(debug, run)


def _emit_cohorts(matrix: CohortMatrix, fmt: Format, output: Path | None) -> None:
    if fmt is Format.table:
        from funnelcli.render.terminal.periodic import cohorts_renderables, plain_text

        renderables = cohorts_renderables(matrix)
        if output is None:
            _print_all(renderables)
        else:
            _emit(plain_text(renderables, width=_width()), output, quiet_unless_tty=True)
        return
    from funnelcli.render import cohorts_out

    writer = {
        Format.json: cohorts_out.cohorts_json,
        Format.csv: cohorts_out.cohorts_csv,
        Format.markdown: cohorts_out.cohorts_markdown,
    }[fmt]
    _emit(writer(matrix), output, quiet_unless_tty=True)


def _print_all(renderables: Sequence[object]) -> None:
    console = _console()
    for renderable in renderables:
        console.print(renderable)


@app.command()
def roi(
    funnel: FunnelArg = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: AsOfOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Spend against revenue per channel: CPL, CAC, ROI, payback, LTV, renewals (docs/money.md).

    Example: funnel roi funnels/default.yaml --since 2024-01-01 --until 2025-01-01
    """

    def run() -> None:
        from funnelcli.roi import RoiQuery, build_roi
        from funnelcli.spec import load_funnel

        definition = load_funnel(_funnel_path(funnel))
        query = RoiQuery(
            since=_moment(since, "--since"),
            until=_moment(until, "--until"),
            as_of=_moment(as_of, "--as-of"),
        )
        if query.since and query.until and query.since >= query.until:
            raise UsageError("--since must be before --until")
        result = build_roi(definition, query, data_dir=data)
        if fmt is Format.table and output is None:
            from funnelcli.render.terminal.roi import print_roi

            print_roi(result, _console())
            return
        from funnelcli.render.roi_text import render_roi

        _emit(render_roi(result, fmt, width=_width()), output)

    _guard(debug, run)


cache_app = typer.Typer(
    help="Inspect or empty the Parquet cache that --cache reads sources from.\n\n"
    "Example: funnel cache info",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info(
    cache_dir: CacheDirOpt = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Output format: table or json.")
    ] = Format.table,
    debug: DebugOpt = False,
) -> None:
    """List the cached sources: files, rows, size on disk, when built.

    Example: funnel cache info --format json
    """

    def run() -> None:
        import json

        from funnelcli import cache
        from funnelcli.paths import default_cache_dir

        folder = cache_dir or default_cache_dir()
        entries = cache.entries(folder)
        if fmt is Format.json:
            document = {
                "schema": "funnelcli.cache/1",
                "cache_dir": str(folder),
                "entries": [e.to_dict() for e in entries],
                "total_bytes": sum(e.bytes for e in entries),
            }
            typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
            return
        if fmt is not Format.table:
            raise UsageError("cache info: --format must be table or json")
        total = sum(e.bytes for e in entries)
        typer.echo(f"{folder}: {len(entries)} cached source(s), {_size(total)}")
        for e in entries:
            typer.echo(
                f"  {e.source}: {', '.join(e.files)} → {e.parquet.name} "
                f"({e.rows:,} rows, {_size(e.bytes)}, built {e.created})"
            )

    _guard(debug, run)


@cache_app.command("clear")
def cache_clear(cache_dir: CacheDirOpt = None, debug: DebugOpt = False) -> None:
    """Delete every cached Parquet copy (they are rebuilt on the next --cache run).

    Example: funnel cache clear
    """

    def run() -> None:
        from funnelcli import cache
        from funnelcli.paths import default_cache_dir

        folder = cache_dir or default_cache_dir()
        files, size = cache.clear(folder)
        typer.echo(f"Removed {files} file(s), {_size(size)}, from {folder}")

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
    from funnelcli.render.terminal import QueryProgress

    files = resolve_files(definition, data)
    total = sum(f.stat().st_size for s in files.values() for f in s.files)
    names = ", ".join(sorted({f.name for s in files.values() for f in s.files}))
    with QueryProgress(Console(stderr=True), f"Reading {names}", total) as progress:
        yield progress


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _console() -> Console:
    from rich.console import Console

    return Console(width=_width() if not sys.stdout.isatty() else None)


def _width() -> int:
    try:
        return max(60, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return 100


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="funnel")
    except FunnelError as error:  # raised while parsing options, before a command's guard
        _fail(error)
