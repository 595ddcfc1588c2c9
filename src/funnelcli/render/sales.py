"""The sales-metrics table (win rates, cycle, velocity) as text cells, shared by the
terminal and Markdown renderers so both say the same (definitions: docs/sales.md)."""

from __future__ import annotations

from funnelcli.outputs.report import FunnelReport, SalesMetrics
from funnelcli.render.wording import format_count, format_number, format_percent, group_name

SALES_HEADER = (
    "Won",
    "Lost",
    "Open",
    "Closed win",
    "Open win",
    "Cycle d",
    "Avg deal",
    "Velocity/d",
)


def sales_title(report: FunnelReport) -> str:
    sales = report.overall.sales
    stage = sales.won_stage if sales is not None else "?"
    return f"Sales (won = {stage})"


def sales_caption() -> str:
    return (
        "Closed win = won/(won+lost); open win = won/entered; cycle = median days entry → won; "
        "velocity/d = open × avg deal × win rate ÷ cycle days."
    )


def sales_rows(report: FunnelReport) -> list[tuple[str, tuple[str, ...] | None]]:
    """(row label, cells) for the whole cohort, then each breakdown: a heading row ("by x",
    cells None) followed by its groups."""
    if report.overall.sales is None or len(report.overall.stages) < 2:
        return []
    rows: list[tuple[str, tuple[str, ...] | None]] = [("All", sales_cells(report.overall.sales))]
    for breakdown in report.breakdowns:
        if not breakdown.groups:
            continue
        rows.append(("by " + " + ".join(breakdown.by), None))
        for group in breakdown.groups:
            if group.sales is not None:
                rows.append((group_name(group.key), sales_cells(group.sales)))
    return rows


def sales_cells(sales: SalesMetrics) -> tuple[str, ...]:
    return (
        format_count(sales.won),
        format_count(sales.lost),
        format_count(sales.open),
        format_percent(sales.win_rate_closed),
        format_percent(sales.win_rate_open),
        format_number(sales.cycle_median_days, 1),
        format_number(sales.average_deal_value, 0),
        format_number(sales.sales_velocity, 0),
    )
