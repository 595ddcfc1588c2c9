"""The terminal views of `funnel summary` and `funnel cohorts` (Rich): comparison tables with
significant rows highlighted, and the cohort matrix as a heat-table."""

from __future__ import annotations

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from funnelcli.outputs.cohorts import CohortMatrix
from funnelcli.outputs.summary import Summary
from funnelcli.render.summary_view import (
    TableView,
    alert_lines,
    facts,
    headline,
    highlights,
    maturity_note,
    tables,
)
from funnelcli.render.terminal import plain_console_text
from funnelcli.render.wording import IMMATURE_MARK, NULL_TEXT, format_count, format_percent

_HEAT = ("#eff6ff", "#dbeafe", "#bfdbfe", "#93c5fd", "#60a5fa")  # pale → strong


def plain_text(renderables: list[RenderableType], *, width: int) -> str:
    """Renderables as plain text (no colour, no control codes) at `width` columns."""

    def draw(console: Console) -> None:
        for renderable in renderables:
            console.print(renderable)

    return plain_console_text(draw, width=width)


def summary_renderables(summary: Summary) -> list[RenderableType]:
    """Title, alerts, maturity note and the comparison tables, top to bottom."""
    out: list[RenderableType] = [
        Text.assemble((headline(summary), "bold"), "\n", (facts(summary), "dim"))
    ]
    for line in alert_lines(summary):
        out.append(Text(line, style="bold red" if line.startswith("ALERT") else "green"))
    out += [Text(f"• {line}") for line in highlights(summary)]
    note = maturity_note(summary)
    if note:
        out.append(Text(note, style="yellow"))
    for view in tables(summary, compact=True):
        out += ["", _table(view)]
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
    for row, mark in zip(view.rows, view.marks, strict=True):
        table.add_row(*row, style="bold green" if mark else None)
    return table


def cohorts_renderables(matrix: CohortMatrix) -> list[RenderableType]:
    """The cohort × stage heat-table: count and conversion from entry, immature cells marked."""
    funnel = matrix.funnel
    title = Text.assemble(
        (f"Entry cohorts by {matrix.period} · {funnel.title or funnel.name}", "bold"),
        "\n",
        (f"as of {matrix.as_of} UTC · periods in {matrix.timezone}", "dim"),
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Cohort", justify="left")
    table.add_column("Entered", justify="right")
    for stage in funnel.stages[1:]:
        table.add_column(stage.label, justify="right")
    peaks = [
        max((r.cells[k].conversion_from_entry or 0.0 for r in matrix.rows), default=0.0)
        for k in range(len(funnel.stages))
    ]
    for row in matrix.rows:
        label = row.label + (" (partial)" if row.partial else "")
        cells: list[Text] = [Text(label), Text(format_count(row.entered))]
        for k, cell in enumerate(row.cells[1:], start=1):
            rate = cell.conversion_from_entry
            text = f"{cell.count:,} {format_percent(rate)}" if rate is not None else NULL_TEXT
            if row.immature:
                text += IMMATURE_MARK
            style = _heat(rate, peaks[k]) + (" dim" if row.immature else "")
            cells.append(Text(text, style=style.strip()))
        table.add_row(*cells)
    legend = Text(
        f"Cells: count and conversion from entry. {IMMATURE_MARK} immature: the cohort is "
        f"younger than the {funnel.window or 'window'} window at {matrix.as_of} and may still "
        "convert. (partial): the period had not ended.",
        style="dim",
    )
    return [title, table, legend]


def _heat(rate: float | None, peak: float) -> str:
    if rate is None or peak <= 0:
        return ""
    level = min(len(_HEAT) - 1, int(rate / peak * (len(_HEAT) - 1) + 0.5))
    return f"black on {_HEAT[level]}"
