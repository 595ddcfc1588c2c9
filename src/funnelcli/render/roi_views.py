"""`funnel roi` as text cells: one row per channel then the blended total, and the renewals
per channel then per cohort (TableViews the terminal, Markdown and HTML lay out). Nothing here
computes a number."""

from __future__ import annotations

from typing import TYPE_CHECKING

from funnelcli.render.views import Mark, Row, TableView, view
from funnelcli.render.wording import (
    format_count,
    format_percent,
    format_ratio,
    format_roi,
    format_whole_amount,
)

if TYPE_CHECKING:
    from funnelcli.outputs.roi import ChannelRoi, Renewals, RoiReport


CHANNEL_HEADER = ("Channel", "Spend", "Leads", "CPL", "CPQL", "Cust.", "CAC", "Revenue", "ROI",
                  "Payback", "LTV:CAC")  # fmt: skip
RENEWALS_HEADER = ("Group", "Up for renewal", "Renewed", "Renewal rate", "Logo churn", "GRR", "NRR")


def describe_currency(report: RoiReport) -> str:
    """What the money numbers are in, e.g. "amounts in CNY"."""
    return f"amounts in {report.funnel.currency}" if report.funnel.currency else "amounts"


def unparseable_revenue_note(column: str, count: int) -> str:
    """The line for amounts ROI could not read (docs/money.md)."""
    return f"{count} unparseable amounts in {column} left out of revenue"


def channel_view(report: RoiReport) -> TableView:
    """One row per channel (sorted by ROI), then the blended row as a total."""
    rows: list[Row] = [(_channel_cells(row), None) for row in report.channels]
    rows.append((_channel_cells(report.blended), Mark.total))
    return view("", CHANNEL_HEADER, rows, sections=(len(report.channels),))


def _channel_cells(row: ChannelRoi) -> tuple[str, ...]:
    return (
        row.channel,
        format_whole_amount(row.spend),
        format_count(row.leads),
        format_whole_amount(row.cost_per_lead),
        format_whole_amount(row.cost_per_qualified_lead),
        format_count(row.customers),
        format_whole_amount(row.cac),
        format_whole_amount(row.attributed_revenue),
        format_roi(row.roi),
        format_ratio(row.payback_months),
        format_ratio(row.ltv_to_cac, "x"),
    )


def renewals_view(report: RoiReport, *, compact: bool) -> TableView | None:
    """Renewal rate, logo churn, GRR and NRR per channel, then per cohort (first contract's
    year); None when no channel has renewals."""
    named = [(row.channel, row.renewals) for row in (*report.channels, report.blended)]
    rows = [(_renewal_cells(name, item), None) for name, item in named if item is not None]
    if not rows:
        return None
    sections = (len(rows),) if report.renewals_by_cohort else ()
    for cohort in report.renewals_by_cohort:
        rows.append((_renewal_cells(f"cohort {cohort.cohort}", cohort.renewals), None))
    what = (
        "contracts ending in the period"
        if report.renewals_from == "subscriptions"
        else "cohort customers whose first period is over"
    )
    decided = f"decided by {report.renewals_as_of}"
    title = f"Renewals: {what}, {decided}" if compact else f"Renewals ({what}, {decided})"
    return view(title, RENEWALS_HEADER, rows, sections=sections)


def _renewal_cells(name: str, renewals: Renewals) -> tuple[str, ...]:
    return (
        name,
        format_count(renewals.up_for_renewal),
        format_count(renewals.renewed),
        format_percent(renewals.renewal_rate),
        format_percent(renewals.logo_churn),
        format_percent(renewals.grr),
        format_percent(renewals.nrr),
    )
