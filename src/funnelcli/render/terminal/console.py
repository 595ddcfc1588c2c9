"""The one plain-text console, and the table helpers every terminal view shares."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence

from rich import box
from rich.console import Console, ConsoleOptions, NewLine, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from funnelcli.render.views import Mark, TableView

_UNLIMITED = 10_000


def plain_text(renderables: Iterable[RenderableType], *, width: int) -> str:
    """What the renderables print, top to bottom, on a colourless console of `width` columns:
    no control codes, no spaces at line ends (tables pad their cells)."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system=None,
        force_terminal=False,
        no_color=True,
        legacy_windows=False,
    )
    for renderable in renderables:
        console.print(renderable)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def spaced(sections: Sequence[RenderableType]) -> list[RenderableType]:
    """`sections` with a blank line between each two."""
    out: list[RenderableType] = []
    for index, section in enumerate(sections):
        out += [NewLine(), section] if index else [section]
    return out


def natural_width(console: Console, options: ConsoleOptions, table: Table) -> int:
    """The width `table` takes when nothing has to shrink (Rich measures within max_width)."""
    return Measurement.get(console, options.update_width(_UNLIMITED), table).maximum


def ruled_table(*, title: str | None, caption: str | None) -> Table:
    """A borderless table with a rule under the header: readable with and without colour."""
    return Table(
        title=title,
        title_justify="left",
        title_style="bold",
        caption=caption,
        caption_justify="left",
        caption_style="dim",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
        header_style="bold",
        pad_edge=False,
    )


def add_rows(
    table: Table,
    view: TableView,
    columns: Sequence[int] | None = None,
    styles: Mapping[Mark, str] | None = None,
) -> None:
    """`view`'s rows (only `columns`, default all) as literal Text, never Rich markup (a CRM
    label like "[VIP]" stays as it is): a rule above each section, each mark's style, a
    heading's label alone in italics."""
    shown = range(len(view.header)) if columns is None else columns
    for index, (cells, mark) in enumerate(zip(view.rows, view.marks, strict=True)):
        if index in view.sections:
            table.add_section()
        if mark is Mark.heading:
            label = Text(cells[0], style="italic", no_wrap=True, overflow="ellipsis")
            table.add_row(label, *(Text("") for i in shown if i))
            continue
        style = (styles or {}).get(mark) if mark is not None else None
        table.add_row(*(Text(cells[i]) for i in shown), style=style)
