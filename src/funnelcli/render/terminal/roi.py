"""`funnel roi` in the terminal: the channel table, an ROI bar per channel, what was left out,
and the renewals table."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from funnelcli.outputs.roi import RoiReport
from funnelcli.render.roi_views import (
    channel_view,
    describe_currency,
    renewals_view,
    unparseable_revenue_note,
)
from funnelcli.render.terminal.console import Fitted, add_rows, spaced
from funnelcli.render.views import Mark, TableView
from funnelcli.render.wording import (
    describe_entries,
    format_roi,
    format_whole_amount,
    rejected_rows_note,
)

BAR_CELLS = 40
LEGEND = (
    "CPL/CPQL/CAC: spend ÷ leads/qualified/customers · ROI: (revenue − spend) ÷ spend · "
    "revenue: first period + renewals · definitions: docs/money.md"
)


def draw(report: RoiReport) -> list[RenderableType]:
    """Title, channels, ROI bars, notes, renewals and the legend, a blank line between each."""
    title = Text.assemble(
        (f"{report.funnel.title}", "bold"),
        f"  ROI by {report.channel_attribute} · {describe_entries(report.period)} · "
        f"{describe_currency(report)}",
    )
    channels = channel_view(report)
    out: list[RenderableType] = [title, Fitted(channels, partial(_channel_table, channels))]
    chart = _roi_chart(report)
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
            out.append(Text(unparseable_revenue_note(column, count)))
    for source, count in report.rows_rejected.items():
        if count:
            out.append(Text(rejected_rows_note(source, count)))
    renewals = renewals_view(report, compact=True)
    if renewals is not None:
        table = Table(
            title=renewals.title,
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            show_edge=False,
            title_justify="left",
        )
        for index, name in enumerate(renewals.header):
            table.add_column(name, justify="left" if index == 0 else "right")
        add_rows(table, renewals)
        out.append(table)
    out.append(Text(LEGEND, style="dim"))
    return spaced(out)


def _channel_table(
    view: TableView, columns: Sequence[int], title: str | None, note: str | None
) -> Table:
    """The channel column and `columns` of the channel table, every amount whole."""
    table = Table(
        title=title,
        title_justify="left",
        caption=note,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        padding=(0, 0, 0, 1),
    )
    for index in (0, *columns):
        table.add_column(
            view.header[index], justify="left" if index == 0 else "right", no_wrap=True
        )
    add_rows(table, view, [0, *columns], styles={Mark.total: "bold"})
    return table


def _roi_chart(report: RoiReport) -> Table:
    """ROI per channel as a bar scaled to the largest |ROI|: a gain solid and green, a loss
    light-shaded, red and labelled "loss"; channels without an ROI (no spend) are left out."""
    rows = [row for row in (*report.channels, report.blended) if row.roi is not None]
    widest = max((abs(row.roi) for row in rows if row.roi is not None), default=0.0)
    chart = Table(box=None, show_header=False, pad_edge=False, title="ROI", title_justify="left")
    chart.add_column(no_wrap=True)
    chart.add_column(justify="right", no_wrap=True)
    chart.add_column(no_wrap=True)
    for row in rows:
        chart.add_row(Text(row.channel), format_roi(row.roi), _bar(row.roi, widest))
    return chart


def _bar(roi: float | None, widest: float) -> Text:
    if roi is None or widest <= 0:
        return Text("")
    cells = max(1, round(abs(roi) / widest * BAR_CELLS)) if roi else 0
    if roi >= 0:
        return Text("█" * cells, style="green")
    return Text("░" * cells + " loss", style="red")  # a loss reads as one without colour too
