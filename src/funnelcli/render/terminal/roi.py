"""`funnel roi` in the terminal: a Rich table per channel with an ROI bar, then renewals."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from funnelcli.outputs.roi import RoiReport
from funnelcli.render.roi_text import (
    RENEWAL_TITLES,
    channel_cells,
    column_titles,
    describe_currency,
    renewal_cells,
)
from funnelcli.render.wording import (
    describe_entries,
    format_roi,
    format_whole_amount,
    rejected_rows_note,
)

BAR_CELLS = 40


def print_roi(report: RoiReport, console: Console) -> None:
    for index, renderable in enumerate(roi_renderables(report)):
        if index:
            console.print()
        console.print(renderable)


def roi_plain_text(report: RoiReport, *, width: int) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    print_roi(report, console)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def _bar(roi: float | None, widest: float) -> Text:
    """ROI as a bar: green to the right for a gain, red for a loss; nothing when null."""
    if roi is None or widest <= 0:
        return Text("")
    cells = max(1, round(abs(roi) / widest * BAR_CELLS)) if roi else 0
    return Text("█" * cells, style="green" if roi >= 0 else "red")


def roi_renderables(report: RoiReport) -> list[RenderableType]:
    title = Text.assemble(
        (f"{report.funnel.title}", "bold"),
        f"  ROI by {report.channel_attribute} · {describe_entries(report.period)} · "
        f"{describe_currency(report)}",
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 0, 0, 1))
    for index, name in enumerate(column_titles()):
        table.add_column(name, justify="left" if index == 0 else "right", no_wrap=True)
    rois = [abs(r.roi) for r in (*report.channels, report.blended) if r.roi is not None]
    widest = max(rois, default=0.0)
    for row in report.channels:
        table.add_row(*channel_cells(row))
    table.add_section()
    table.add_row(*channel_cells(report.blended), style="bold")
    out: list[RenderableType] = [title, table]
    chart = Table(box=None, show_header=False, pad_edge=False, title="ROI", title_justify="left")
    chart.add_column(no_wrap=True)
    chart.add_column(justify="right", no_wrap=True)
    chart.add_column(no_wrap=True)
    for row in (*report.channels, report.blended):
        if row.roi is not None:
            chart.add_row(row.channel, format_roi(row.roi), _bar(row.roi, widest))
    if chart.row_count:
        out.append(chart)
    if report.unmatched_spend:
        parts = ", ".join(
            f"{u.spend_channel} {format_whole_amount(u.amount)}" for u in report.unmatched_spend
        )
        out.append(
            Text(f"Spend matching no lead {report.channel_attribute} (in blended only): {parts}")
        )
    for column, count in report.unparseable_amounts.items():
        if count:
            out.append(Text(f"{count} unparseable amounts in {column} left out of revenue"))
    for source, count in report.rows_rejected.items():
        if count:
            out.append(Text(f"{rejected_rows_note(source, count)}"))
    renewal_rows = [(r.channel, r.renewals) for r in (*report.channels, report.blended)]
    if any(r is not None for _, r in renewal_rows):
        renewals = Table(
            title=(
                "Renewals: contracts ending in the period"
                if report.renewals_from == "subscriptions"
                else "Renewals: cohort customers whose first period is over"
            )
            + f", decided by {report.renewals_as_of}",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            show_edge=False,
            title_justify="left",
        )
        for index, name in enumerate(RENEWAL_TITLES):
            renewals.add_column(name, justify="left" if index == 0 else "right")
        for name, item in renewal_rows:
            if item is not None:
                renewals.add_row(*renewal_cells(name, item))
        if report.renewals_by_cohort:
            renewals.add_section()
            for cohort in report.renewals_by_cohort:
                renewals.add_row(*renewal_cells(f"cohort {cohort.cohort}", cohort.renewals))
        out.append(renewals)
    out.append(
        Text(
            "CPL/CPQL/CAC: spend ÷ leads/qualified/customers · ROI: (revenue − spend) ÷ spend · "
            "revenue: first period + renewals · definitions: docs/money.md",
            style="dim",
        )
    )
    return out
