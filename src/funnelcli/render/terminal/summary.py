"""`funnel summary` in the terminal: alerts, what changed, and the comparison tables with
significant rows highlighted."""

from __future__ import annotations

from rich import box
from rich.console import NewLine, RenderableType
from rich.table import Table
from rich.text import Text

from funnelcli.outputs.summary import Summary
from funnelcli.render.terminal.console import add_rows
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
        out += [NewLine(), _table(view)]
    return out


def _table(view: TableView) -> Table:
    table = Table(
        title=view.title,
        title_justify="left",
        title_style="bold",
        caption=view.note or None,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for index, name in enumerate(view.header):
        table.add_column(name, justify="left" if index == 0 else "right", no_wrap=index > 0)
    add_rows(table, view, styles={Mark.significant: "bold green"})
    return table
