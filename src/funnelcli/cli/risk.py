"""`funnel risk`: the churn early-warning list from product usage, and its backtest (exit 3
on a --fail-on alert)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from funnelcli.cli.options import (
    CacheDirOpt,
    CacheOpt,
    DataOpt,
    DebugOpt,
    FunnelArg,
    MaxRejectedOpt,
    OutputOpt,
)
from funnelcli.cli.root import app
from funnelcli.cli.runtime import emit, funnel_path, guard, run_options
from funnelcli.errors import UsageError

if TYPE_CHECKING:
    from funnelcli.outputs.risk import RiskReport

ALERT_EXIT_CODE = 3


class RiskFormat(StrEnum):
    """`funnel risk` (csv: one row per account, for a CRM import)."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    html = "html"
    xlsx = "xlsx"


@app.command()
def risk(
    funnel: FunnelArg = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help="A point in time: usage of the days before it and touches up to it count, "
            "nothing later. Default: the day after the usage file's last day.",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN",
            help="Group accounts by an attribute of their first lead (segment, owner, channel).",
        ),
    ] = None,
    top: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="List only the N highest scores.")
    ] = None,
    min_score: Annotated[
        float,
        typer.Option("--min-score", min=0, max=100, metavar="S", help="List scores ≥ S (0-100)."),
    ] = 1,
    backtest: Annotated[
        bool,
        typer.Option(
            "--backtest",
            help="Replay every 4 weeks over the history: precision, recall, lift and ARR "
            "caught per signal and overall.",
        ),
    ] = False,
    horizon: Annotated[
        str,
        typer.Option(
            metavar="DURATION",
            help="Backtest: churn counts when the contract ends unrenewed within this.",
        ),
    ] = "90d",
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            metavar="EXPR",
            help="Exit 3 when met (repeatable), e.g. 'risk.high > 5' or 'risk.high_arr > 100000'.",
        ),
    ] = None,
    fmt: Annotated[
        RiskFormat, typer.Option("--format", "-f", help="Output format.")
    ] = RiskFormat.table,
    output: OutputOpt = None,
    data: DataOpt = None,
    cache: CacheOpt = None,
    cache_dir: CacheDirOpt = None,
    debug: DebugOpt = False,
    max_rejected: MaxRejectedOpt = None,
) -> None:
    """Accounts at risk of churning, from product usage, touches and contracts (docs/risk.md).

    Exit code 3 when a --fail-on alert is met (the list is still written).

    Example: funnel risk funnels/risk.yaml --top 10 --fail-on "risk.high > 5"
    """

    def run() -> RiskReport:
        from funnelcli.commands import options as o
        from funnelcli.commands.risk import RiskRequest, build_risk
        from funnelcli.metrics.risk import parse_risk_alert
        from funnelcli.spec import load_funnel

        alerts = tuple(parse_risk_alert(text) for text in fail_on or ())
        if alerts and backtest:
            raise UsageError("--fail-on applies to the list, not to --backtest")
        definition = load_funnel(funnel_path(funnel))
        request = RiskRequest(
            as_of=o.moment(as_of, "--as-of"),
            by=by,
            top=top,
            min_score=min_score,
            backtest=backtest,
            horizon_days=_days(horizon),
            alerts=alerts,
        )
        options = run_options(data, cache, cache_dir, max_rejected)
        result = build_risk(definition, request, options)
        emit(result, fmt, output)
        return result

    result = guard(debug, run)
    if result.alerts_met:
        raise typer.Exit(ALERT_EXIT_CODE)


def _days(text: str) -> int:
    from funnelcli.spec.duration import Duration

    try:
        duration = Duration.parse(text)
    except ValueError as error:
        raise UsageError(f"--horizon: {error}") from None
    if duration.months or duration.seconds % 86400 or not duration.seconds:
        raise UsageError(
            f"--horizon: expected whole days or weeks such as 90d or 12w, got {text!r}"
        )
    return duration.seconds // 86400
