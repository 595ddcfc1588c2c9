"""The one plain-text console, and the table helpers every terminal view shares."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping, Sequence

from rich import box
from rich.console import Console, ConsoleOptions, NewLine, RenderableType, RenderResult
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


class Fitted:
    """A view's table, whole when it fits the console, else split by columns like a wide data
    frame: later columns continue below under "(continued)", each part repeating the first
    `keep` columns, the note under the last part. Numbers are never cut: `make` builds the
    table for the columns shown (after the kept ones), with no-wrap number columns."""

    def __init__(
        self,
        view: TableView,
        make: Callable[[Sequence[int], str | None, str | None], Table],
        keep: int = 1,
    ) -> None:
        self.view, self.make, self.keep = view, make, keep

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rest = list(range(self.keep, len(self.view.header)))
        title, note = self.view.title or None, self.view.note or None
        whole = self.make(rest, title, note)
        if natural_width(console, options, whole) <= options.max_width:
            yield whole
            return
        parts: list[list[int]] = [[]]
        for index in rest:
            wider = self.make([*parts[-1], index], title, None)
            if parts[-1] and natural_width(console, options, wider) > options.max_width:
                parts.append([])
            parts[-1].append(index)
        for number, part in enumerate(parts):
            if number:
                yield NewLine()
            # Split parts are narrow: their title and note take the console's width instead.
            shown = f"{title or self.view.header[0]} (continued)" if number else title
            if shown:
                yield Text(shown, style="bold")
            yield self.make(part, None, None)
        if note:
            yield Text(note, style="dim")
