"""`funnel roi`: spend against revenue per channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from funnelcli.render import Format

if TYPE_CHECKING:
    pass
from funnelcli.cli._base import (
    AsOfOpt,
    CacheDirOpt,
    CacheOpt,
    DataOpt,
    DebugOpt,
    FormatOpt,
    FunnelArg,
    OutputOpt,
    SinceOpt,
    UntilOpt,
    _console,
    _emit,
    _funnel_path,
    _guard,
    _width,
    app,
)


@app.command()
def roi(
    funnel: FunnelArg = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
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
        from funnelcli.commands import options as o
        from funnelcli.commands.roi import RoiRequest, build_roi
        from funnelcli.spec import load_funnel

        definition = load_funnel(_funnel_path(funnel))
        since_at, until_at = o.period(since, until)
        request = RoiRequest(since=since_at, until=until_at, as_of=o.moment(as_of, "--as-of"))
        options = o.RunOptions(data_dir=data, cache=cache, cache_dir=cache_dir)
        result = build_roi(definition, request, options)
        if fmt is Format.table and output is None:
            from funnelcli.render.terminal.roi import print_roi

            print_roi(result, _console())
            return
        from funnelcli.render.roi_text import render_roi

        _emit(render_roi(result, fmt, width=_width()), output)

    _guard(debug, run)
