"""`funnel cohorts` in the terminal: the cohort matrix as a heat-table."""

from __future__ import annotations

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from funnelcli.outputs.cohorts import CohortMatrix
from funnelcli.render.views import cohort_view

_HEAT = ("#eff6ff", "#dbeafe", "#bfdbfe", "#93c5fd", "#60a5fa")  # pale → strong


def draw(matrix: CohortMatrix) -> list[RenderableType]:
    """Title, the cohort × stage table (shaded by each stage's best cohort, immature cells
    faint and marked) and its legend."""
    view = cohort_view(matrix, compact=True)
    title = Text.assemble(
        (view.title, "bold"),
        "\n",
        (f"as of {matrix.as_of} UTC · periods in {matrix.timezone}", "dim"),
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for index, name in enumerate(view.header):
        table.add_column(name, justify="left" if index == 0 else "right")
    stages = range(1, len(matrix.funnel.stages))
    peaks = [
        max((r.cells[k].conversion_from_entry or 0.0 for r in matrix.rows), default=0.0)
        for k in stages
    ]
    for row, cells in zip(matrix.rows, view.rows, strict=True):
        faint = " dim" if row.immature else ""
        shaded = [
            Text(text, style=(_heat(cell.conversion_from_entry, peak) + faint).strip())
            for text, cell, peak in zip(cells[2:], row.cells[1:], peaks, strict=True)
        ]
        table.add_row(Text(cells[0]), Text(cells[1]), *shaded)
    return [title, table, Text(view.note, style="dim")]


def _heat(rate: float | None, peak: float) -> str:
    """A background from pale to strong as `rate` nears the stage's best cohort (`peak`)."""
    if rate is None or peak <= 0:
        return ""
    level = min(len(_HEAT) - 1, int(rate / peak * (len(_HEAT) - 1) + 0.5))
    return f"black on {_HEAT[level]}"
