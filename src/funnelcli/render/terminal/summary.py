"""`funnel summary` in the terminal: alerts, what changed, and the comparison tables with
significant rows highlighted."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from rich import box
from rich.console import NewLine, RenderableType
from rich.table import Table
from rich.text import Text

from funnelcli.outputs.summary import Summary
from funnelcli.render.terminal.console import Fitted, add_rows
from funnelcli.render.views import Mark, TableView, summary_views
from funnelcli.render.wording import alert_lines, facts, headline, highlights, maturity_note


def draw(summary: Summary) -> list[RenderableType]:
    """Title, alerts, highlights, maturity note and the comparison tables, top to bottom."""
    out: list[RenderableType] = [
        Text.assemble((headline(summary), "bold"), "\n", (facts(summary), "dim"))
    ]
    for line in alert_lines(summary):
        out.append(Text(line, style="bold red" if line.startswith("ALERT") else "green"))
    out += [Text(f"• {line}") for line in highlights(summary)]
    note = maturity_note(summary)
    if note:
        out.append(Text(note, style="yellow"))
    for view in summary_views(summary, compact=True):
        out += [NewLine(), Fitted(view, partial(_table, view))]
    return out


def _table(view: TableView, columns: Sequence[int], title: str | None, note: str | None) -> Table:
    """The stage (or group) column and `columns` of `view`."""
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        caption=note,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for index in (0, *columns):
        name = view.header[index]
        table.add_column(name, justify="left" if index == 0 else "right", no_wrap=index > 0)
    add_rows(table, view, [0, *columns], styles={Mark.significant: "bold green"})
    return table
