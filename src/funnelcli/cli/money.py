"""`funnel roi`: spend against revenue per channel."""

from __future__ import annotations

from funnelcli.cli._base import (
    AsOfOpt,
    CacheDirOpt,
    CacheOpt,
    DataOpt,
    DebugOpt,
    FormatOpt,
    FunnelArg,
    OutputOpt,
    ReportFormat,
    SinceOpt,
    UntilOpt,
    _funnel_path,
    _guard,
    _moment,
    _period,
    app,
    emit,
)


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
    debug: DebugOpt = False,
) -> None:
    """Spend against revenue per channel: CPL, CAC, ROI, payback, LTV, renewals (docs/money.md).

    Example: funnel roi funnels/default.yaml --since 2024-01-01 --until 2025-01-01
    """

    def run() -> None:
        from funnelcli.commands.roi import RoiQuery, build_roi
        from funnelcli.spec import load_funnel

        definition = load_funnel(_funnel_path(funnel))
        since_at, until_at = _period(since, until)
        query = RoiQuery(
            since=since_at,
            until=until_at,
            as_of=_moment(as_of, "--as-of"),
        )
        result = build_roi(definition, query, data_dir=data, cache=cache, cache_dir=cache_dir)
        emit(result, fmt, output)

    _guard(debug, run)
