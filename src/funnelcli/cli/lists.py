"""`funnel stalled`, `funnel trace` and `funnel drivers`: from the report's numbers to ids."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from funnelcli.cli.options import (
    AsOfOpt,
    CacheDirOpt,
    CacheOpt,
    DataOpt,
    DebugOpt,
    FormatOpt,
    FunnelArg,
    MaxRejectedOpt,
    OutputOpt,
    ReportFormat,
    SinceOpt,
    UntilOpt,
)
from funnelcli.cli.root import app
from funnelcli.cli.runtime import emit, funnel_path, guard, run_options
from funnelcli.errors import UsageError


class TraceFormat(StrEnum):
    """`funnel trace`."""

    table = "table"
    json = "json"
    html = "html"
    xlsx = "xlsx"


StageOpt = Annotated[
    str, typer.Option("--stage", metavar="STAGE", help="The stage (its name in the YAML).")
]
ListByOpt = Annotated[
    list[str] | None,
    typer.Option("--by", metavar="COLUMN", help="Group by this attribute (repeatable)."),
]


@app.command()
def stalled(
    funnel: FunnelArg = None,
    stage: StageOpt = ...,  # type: ignore[assignment]
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than", metavar="DURATION", help="Only ids waiting at least this long (14d)."
        ),
    ] = None,
    by: ListByOpt = None,
    dropped: Annotated[
        bool,
        typer.Option("--dropped", help="List the ids whose window ran out at the stage instead."),
    ] = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = ReportFormat.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    cache: CacheOpt = None,
    cache_dir: CacheDirOpt = None,
    debug: DebugOpt = False,
    max_rejected: MaxRejectedOpt = None,
) -> None:
    """The ids that reached a stage and not the next one, longest wait first.

    Stalled ids are still inside the window (they may convert); --dropped lists the ids whose
    window ran out. Stalled + dropped = the report's drop-off at the next stage.

    Example: funnel stalled funnels/default.yaml --stage trial --older-than 14d --format csv
    """

    def run() -> None:
        from funnelcli.commands import options as o
        from funnelcli.commands.stalled import StalledRequest, build_stalled
        from funnelcli.spec import load_funnel
        from funnelcli.spec.duration import Duration

        definition = load_funnel(funnel_path(funnel))
        o.check_outputs(definition, data, output=output)
        since_at, until_at = o.period(since, until, definition.spec.timezone)
        try:
            waited = Duration.parse(older_than) if older_than is not None else None
        except ValueError as error:
            raise UsageError(f"--older-than: {error}") from None
        request = StalledRequest(
            since=since_at,
            until=until_at,
            as_of=o.moment(as_of, "--as-of"),
            stage=stage,
            dropped=dropped,
            older_than=waited,
            by=tuple(by or ()),
        )
        options = run_options(data, cache, cache_dir, max_rejected)
        emit(build_stalled(definition, request, options), fmt, output)

    guard(debug, run)


@app.command()
def trace(
    targets: Annotated[
        list[str],
        typer.Argument(
            metavar="[FUNNEL] ID",
            help="The funnel YAML (default as for report) and the id (an account at "
            "grain: account).",
            show_default=False,
        ),
    ],
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: AsOfOpt = None,
    fmt: Annotated[
        TraceFormat, typer.Option("--format", "-f", help="Output format.")
    ] = TraceFormat.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    cache: CacheOpt = None,
    cache_dir: CacheDirOpt = None,
    debug: DebugOpt = False,
    max_rejected: MaxRejectedOpt = None,
) -> None:
    """One id's path: every evidence row (file and line), each stage's time, and the rule
    that excluded each stage not counted (docs/semantics.md).

    Rows set aside are said on stderr and the id's own are listed; only an explicit
    --max-rejected stops the trace (the YAML's max_rejected: does not).

    Example: funnel trace funnels/default.yaml L000652
    """

    def run() -> None:
        from funnelcli.commands import options as o
        from funnelcli.commands.trace import TraceRequest, build_trace
        from funnelcli.spec import load_funnel

        if len(targets) > 2:
            raise UsageError("expected [FUNNEL] ID, e.g. funnel trace funnels/default.yaml L000652")
        path = Path(targets[0]) if len(targets) == 2 else None
        definition = load_funnel(funnel_path(path))
        o.check_outputs(definition, data, output=output)
        since_at, until_at = o.period(since, until, definition.spec.timezone)
        request = TraceRequest(
            since=since_at, until=until_at, as_of=o.moment(as_of, "--as-of"), id=targets[-1]
        )
        options = run_options(data, cache, cache_dir, max_rejected)
        emit(build_trace(definition, request, options), fmt, output)

    guard(debug, run)


@app.command()
def drivers(
    funnel: FunnelArg = None,
    stage: StageOpt = ...,  # type: ignore[assignment]
    from_stage: Annotated[
        str | None,
        typer.Option("--from", metavar="STAGE", help="Start stage (default: the first)."),
    ] = None,
    min_n: Annotated[
        int | None,
        typer.Option(
            "--min-n", min=1, metavar="N", help="Test only groups this big (default: min_n, 30)."
        ),
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            "--by",
            metavar="COLUMN",
            help="Also compare this attribute (repeatable; the YAML's dimensions: always are).",
        ),
    ] = None,
    numeric: Annotated[
        list[str] | None,
        typer.Option(
            "--numeric",
            metavar="COLUMN",
            help="Compare this attribute's quartiles (numeric columns are binned anyway).",
        ),
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = ReportFormat.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    cache: CacheOpt = None,
    cache_dir: CacheDirOpt = None,
    debug: DebugOpt = False,
    max_rejected: MaxRejectedOpt = None,
) -> None:
    """Which attribute values go with converting: each value's conversion against the rest,
    odds ratio with a 95% interval, p adjusted for multiple tests (Benjamini–Hochberg).

    Example: funnel drivers funnels/default.yaml --stage paid --from qualified
    """

    def run() -> None:
        from funnelcli.commands import options as o
        from funnelcli.commands.drivers import DriversRequest, build_drivers
        from funnelcli.spec import load_funnel

        definition = load_funnel(funnel_path(funnel))
        o.check_outputs(definition, data, output=output)
        since_at, until_at = o.period(since, until, definition.spec.timezone)
        request = DriversRequest(
            since=since_at,
            until=until_at,
            as_of=o.moment(as_of, "--as-of"),
            stage=stage,
            from_stage=from_stage,
            min_n=min_n,
            by=tuple(by or ()),
            numeric=tuple(numeric or ()),
        )
        options = run_options(data, cache, cache_dir, max_rejected)
        emit(build_drivers(definition, request, options), fmt, output)

    guard(debug, run)
