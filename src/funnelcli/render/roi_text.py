"""`funnel roi` as JSON (funnelcli.roi/1), CSV (one row per channel) or Markdown tables."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from typing import Any

from funnelcli.outputs.roi import ChannelRoi, Renewals, RoiReport
from funnelcli.render import Format
from funnelcli.render.wording import (
    describe_entries,
    format_count,
    format_percent,
    format_ratio,
    format_roi,
    format_whole_amount,
    rejected_rows_note,
)

SCHEMA_RESOURCE = "outputs/schemas/roi-1.schema.json"
CSV_HEADER = (
    "channel",
    "spend",
    "spend_rows",
    "leads",
    "qualified",
    "customers",
    "cost_per_lead",
    "cost_per_qualified_lead",
    "cac",
    "first_period_revenue",
    "renewal_revenue",
    "attributed_revenue",
    "roi",
    "payback_months",
    "ltv",
    "ltv_to_cac",
    "up_for_renewal",
    "renewed",
    "renewal_rate",
    "logo_churn",
    "grr",
    "nrr",
)


def render_roi(report: RoiReport, fmt: Format, *, width: int = 100) -> str:
    """The whole output of `funnel roi` in `fmt`; `table` is the Rich view without colour."""
    if fmt == Format.table:
        from funnelcli.render.terminal.roi import roi_plain_text

        return roi_plain_text(report, width=width)
    if fmt == Format.json:
        return roi_json(report)
    if fmt == Format.csv:
        return roi_csv(report)
    if fmt == Format.markdown:
        return roi_markdown(report)
    raise ValueError(f"unknown format {fmt!r}")


def roi_json(report: RoiReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def roi_schema() -> dict[str, Any]:
    """The JSON Schema of funnelcli.roi/1, as shipped in the package."""
    text = resources.files("funnelcli").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _renewal_cells(renewals: Renewals | None) -> list[Any]:
    if renewals is None:
        return ["", "", "", "", "", ""]
    return [
        renewals.up_for_renewal,
        renewals.renewed,
        *(
            "" if v is None else repr(v)
            for v in (renewals.renewal_rate, renewals.logo_churn, renewals.grr, renewals.nrr)
        ),
    ]


def _cell(value: float | int | None) -> str:
    return "" if value is None else repr(value)


def roi_csv(report: RoiReport) -> str:
    """One row per channel, then the blended row (channel `(blended)`); empty cell = null."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in (*report.channels, report.blended):
        writer.writerow(
            [
                row.channel,
                *(
                    _cell(v)
                    for v in (
                        row.spend,
                        row.spend_rows,
                        row.leads,
                        row.qualified,
                        row.customers,
                        row.cost_per_lead,
                        row.cost_per_qualified_lead,
                        row.cac,
                        row.first_period_revenue,
                        row.renewal_revenue,
                        row.attributed_revenue,
                        row.roi,
                        row.payback_months,
                        row.ltv,
                        row.ltv_to_cac,
                    )
                ),
                *_renewal_cells(row.renewals),
            ]
        )
    return buffer.getvalue()


def channel_cells(row: ChannelRoi) -> list[str]:
    """The human-readable cells of one channel row, shared by the terminal and Markdown."""
    return [
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
    ]


def column_titles() -> list[str]:
    return ["Channel", "Spend", "Leads", "CPL", "CPQL", "Cust.", "CAC", "Revenue", "ROI",
            "Payback", "LTV:CAC"]  # fmt: skip


def describe_currency(report: RoiReport) -> str:
    return f"amounts in {report.funnel.currency}" if report.funnel.currency else "amounts"


def renewal_cells(name: str, renewals: Renewals) -> list[str]:
    return [
        name,
        format_count(renewals.up_for_renewal),
        format_count(renewals.renewed),
        format_percent(renewals.renewal_rate),
        format_percent(renewals.logo_churn),
        format_percent(renewals.grr),
        format_percent(renewals.nrr),
    ]


RENEWAL_TITLES = ["Group", "Up for renewal", "Renewed", "Renewal rate", "Logo churn", "GRR", "NRR"]


def roi_markdown(report: RoiReport) -> str:
    lines = [f"## {report.funnel.title}: ROI by {report.channel_attribute}", ""]
    lines.append(
        f"Entry cohort: {describe_entries(report.period)}; {describe_currency(report)}; payback in "
        "months. Sorted by ROI (nulls last)."
    )
    lines.append("")
    titles = column_titles()
    lines.append("| " + " | ".join(titles) + " |")
    lines.append("|" + "|".join([" --- "] + [" ---: "] * (len(titles) - 1)) + "|")
    for row in (*report.channels, report.blended):
        lines.append("| " + " | ".join(channel_cells(row)) + " |")
    if report.unmatched_spend:
        lines += ["", "Spend matching no lead channel (in blended only):", ""]
        for item in report.unmatched_spend:
            rows = f"{item.rows} row" + ("" if item.rows == 1 else "s")
            lines.append(f"- {item.spend_channel}: {format_whole_amount(item.amount)} ({rows})")
    for column, count in report.unparseable_amounts.items():
        if count:
            lines += ["", f"{count} unparseable amounts in {column} left out of revenue."]
    for source, count in report.rows_rejected.items():
        if count:
            lines += ["", rejected_rows_note(source, count) + "."]
    renewal_rows = [(r.channel, r.renewals) for r in (*report.channels, report.blended)]
    if any(r is not None for _, r in renewal_rows):
        what = (
            "contracts ending in the period"
            if report.renewals_from == "subscriptions"
            else "cohort customers whose first period is over"
        )
        lines += ["", f"### Renewals ({what}, decided by {report.renewals_as_of})"]
        lines += ["", "| " + " | ".join(RENEWAL_TITLES) + " |"]
        lines.append("|" + "|".join([" --- "] + [" ---: "] * 6) + "|")
        for name, renewals in renewal_rows:
            if renewals is not None:
                lines.append("| " + " | ".join(renewal_cells(name, renewals)) + " |")
        for cohort in report.renewals_by_cohort:
            cells = renewal_cells(f"cohort {cohort.cohort}", cohort.renewals)
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
