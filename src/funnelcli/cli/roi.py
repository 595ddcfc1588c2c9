"""`funnel roi`: spend against revenue per channel."""

from __future__ import annotations

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
    ReportFormat,
    SinceOpt,
    SparkMasterOpt,
    UntilOpt,
)
from funnelcli.cli.root import app
from funnelcli.cli.runtime import emit, funnel_path, guard, run_options


@app.command()
def roi(
    funnel: FunnelArg = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = ReportFormat.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    cache: CacheOpt = None,
    cache_dir: CacheDirOpt = None,
    engine: EngineOpt = EngineKind.duckdb,
    spark: SparkMasterOpt = None,
    debug: DebugOpt = False,
    max_rejected: MaxRejectedOpt = None,
) -> None:
    """Spend against revenue per channel: CPL, CAC, ROI, payback, LTV, renewals (docs/money.md).

    Example: funnel roi funnels/default.yaml --since 2024-01-01 --until 2025-01-01

    Example: funnel roi funnels/default.yaml --engine spark --format json
    """

    def run() -> None:
        from funnelcli.commands import options as o
        from funnelcli.commands.roi import RoiRequest, build_roi
        from funnelcli.spec import load_funnel

        definition = load_funnel(funnel_path(funnel))
        o.check_outputs(definition, data, output=output)
        since_at, until_at = o.period(since, until, definition.spec.timezone)
        request = RoiRequest(since=since_at, until=until_at, as_of=o.moment(as_of, "--as-of"))
        options = run_options(data, cache, cache_dir, max_rejected, engine, spark)
        result = build_roi(definition, request, options)
        emit(result, fmt, output)

    guard(debug, run)
