"""`funnel stalled`, `trace` and `drivers` in the terminal (drivers: the strongest as bars)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from funnelcli.outputs.drivers import Drivers
from funnelcli.outputs.stalled import StalledList
from funnelcli.outputs.trace import Trace
from funnelcli.render.lists import drivers_view, stalled_view, trace_views
from funnelcli.render.terminal.console import Fitted, add_rows, ruled_table, spaced
from funnelcli.render.views import Mark, TableView
from funnelcli.render.wording import format_number

BAR_CELLS = 20  # each side of the odds-ratio axis
STRONGEST = 8  # drivers drawn as bars


def _table(view: TableView, *, wrap_last: bool = False) -> Fitted:
    """`view` whole when it fits the terminal, else split by columns (console.Fitted)."""

    def part(columns: Sequence[int], title: str | None, note: str | None) -> Table:
        table = ruled_table(title=title, caption=note)
        for index in (0, *columns):
            last = wrap_last and index == len(view.header) - 1
            justify = "left" if index == 0 or last else "right"
            table.add_column(view.header[index], justify=justify, no_wrap=not last)  # type: ignore[arg-type]
        add_rows(table, view, [0, *columns], styles={Mark.significant: "bold", Mark.few: "dim"})
        return table

    return Fitted(view, part)


def draw_stalled(result: StalledList) -> list[RenderableType]:
    return [_table(stalled_view(result))]


def draw_trace(trace: Trace) -> list[RenderableType]:
    return spaced([_table(view, wrap_last=True) for view in trace_views(trace)])


def draw_drivers(result: Drivers) -> list[RenderableType]:
    """The ranked table, then the strongest as odds-ratio bars on a log scale (left: less
    likely to convert than the rest, right: more)."""
    out: list[RenderableType] = [_table(drivers_view(result))]
    strongest = [d for d in result.drivers if d.p_adjusted < 0.05][:STRONGEST]
    if strongest:
        widest = max(abs(math.log(d.odds_ratio)) for d in strongest) or 1.0
        chart = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1, 0, 0))
        chart.title = "Strongest (adjusted p < 0.05): odds ratio against the rest, log scale"
        chart.title_justify = "left"
        chart.add_column(no_wrap=True)
        chart.add_column(justify="right", no_wrap=True)
        chart.add_column(no_wrap=True)
        chart.add_column(justify="right", no_wrap=True)
        for d in strongest:
            cells = round(abs(math.log(d.odds_ratio)) / widest * BAR_CELLS)
            if d.odds_ratio < 1:
                left, right = Text("█" * cells, style="red"), Text("")
            else:
                left, right = Text(""), Text("█" * cells, style="green")
            label = Text(f"{d.attribute}={d.value}")
            chart.add_row(label, left, right, Text(format_number(d.odds_ratio, 2) + "×"))
        out.append(chart)
    return spaced(out)
