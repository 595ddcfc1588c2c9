"""The sales-metrics table (win rates, cycle, velocity) as text cells, shared by the
terminal and Markdown renderers so both say the same (definitions: docs/sales.md)."""

from __future__ import annotations

from funnelcli.render import NULL_TEXT, format_count, format_percent, group_name, is_number
from funnelcli.result import FunnelReport, SalesMetrics

SALES_HEADER = (
    "Won",
    "Lost",
    "Open",
    "Win % closed",
    "Win % open",
    "Cycle days",
    "Avg deal",
    "Velocity/day",
)


def sales_title(report: FunnelReport) -> str:
    sales = report.overall.sales
    stage = sales.won_stage if sales is not None else "?"
    return f"Sales (won = {stage})"


def sales_caption() -> str:
    return (
        "Win % closed = won/(won+lost); open = won/entered; cycle = median days entry → won; "
        "velocity = open × avg deal × win rate ÷ cycle days."
    )


def sales_rows(report: FunnelReport) -> list[tuple[str, tuple[str, ...]]]:
    """(row label, cells) for the whole cohort, then every group of every breakdown."""
    if report.overall.sales is None or len(report.overall.stages) < 2:
        return []
    rows = [("All", sales_cells(report.overall.sales))]
    for breakdown in report.breakdowns:
        prefix = " + ".join(breakdown.by)
        for group in breakdown.groups:
            if group.sales is not None:
                rows.append((f"{prefix}: {group_name(group)}", sales_cells(group.sales)))
    return rows


def sales_cells(sales: SalesMetrics) -> tuple[str, ...]:
    return (
        format_count(sales.won),
        format_count(sales.lost),
        format_count(sales.open),
        format_percent(sales.win_rate_closed),
        format_percent(sales.win_rate_open),
        _number(sales.cycle_median_days, 1),
        _number(sales.average_deal_value, 0),
        _number(sales.sales_velocity, 0),
    )


def _number(value: float | None, decimals: int) -> str:
    return f"{value:,.{decimals}f}" if value is not None and is_number(value) else NULL_TEXT
