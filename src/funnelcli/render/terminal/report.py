"""`funnel report` in the terminal: the funnel with bars, breakdowns, sales and a data-quality
footer. Numbers are never shortened: on a narrow terminal bars narrow or go, labels wrap, wide
tables are split, and as a last resort the least needed columns are hidden."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich import box
from rich.console import Console, ConsoleOptions, NewLine, RenderableType, RenderResult
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from funnelcli.outputs.report import DataQuality, FunnelReport, Histogram
from funnelcli.render.terminal.console import add_rows, natural_width, ruled_table, spaced
from funnelcli.render.views import (
    FUNNEL_NOTE,
    Mark,
    TableView,
    breakdown_views,
    funnel_view,
    sales_view,
)
from funnelcli.render.wording import (
    STAGES_DONE,
    describe_cohort,
    describe_immature,
    finding_text,
    format_count,
    histogram_labels,
    histogram_title,
    ordered_counts,
    plural,
)

BAR_CELLS = 30  # widest funnel bar; it shrinks first when the terminal is narrow
_MIN_BAR_CELLS = 8
_COLUMN_GAP = 2  # cells between two columns of a ruled table
_MIN_STAGE_CELLS = 12
_HIDDEN_WHEN_NARROW = ("Dropped", "P90", "Median")  # in this order, only when nothing else helps
_GROUP_CELLS = 28  # a longer group name wraps when a table has to be split
_PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"  # index = eighths of a cell


def draw(report: FunnelReport) -> list[RenderableType]:
    """The report top to bottom: title, funnel, breakdowns, sales, immature note, data quality."""
    sections: list[RenderableType] = [_title(report), _FunnelTable(report)]
    sections += [_SplitTable(view) for view in breakdown_views(report, compact=True)]
    sales = sales_view(report)
    if sales is not None:
        sections.append(_SplitTable(sales, by_columns=True))
    if report.histogram is not None:
        sections.append(_histogram_table(report, report.histogram))
    if report.period.immature:
        sections.append(
            Text.assemble(("Immature: ", "bold yellow"), (describe_immature(report), "yellow"))
        )
    sections.append(_data_quality_panel(report))
    return spaced(sections)


def funnel_bar(fraction: float | None, cells: int) -> Text:
    """A bar of block characters filling `fraction` of `cells`, in eighths of a cell."""
    fraction = min(max(fraction or 0.0, 0.0), 1.0)
    eighths = round(fraction * cells * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1  # a stage somebody reached never looks empty
    full, rest = divmod(eighths, 8)
    return Text("█" * full + (_PARTIAL_BLOCKS[rest] if rest else ""), style="cyan")


def _title(report: FunnelReport) -> Text:
    funnel = report.funnel
    facts = [funnel.name, f"{funnel.grain} grain", f"{funnel.order} order"]
    facts += [STAGES_DONE] if funnel.rows else []
    if funnel.window:
        facts.append(f"window {funnel.window}")
    if funnel.attempts:
        facts.append(f"attempts {funnel.attempts}")
    if funnel.filter:
        facts.append(f"filter {funnel.filter}")
    title = Text.assemble(
        (funnel.title or funnel.name, "bold"), "  ", (" · ".join(facts), "dim"), "\n"
    )
    title.append(describe_cohort(report.period, funnel.window), style="dim")
    return title


class _FunnelTable:
    """The overall funnel with a bar per stage (its conversion from entry)."""

    def __init__(self, report: FunnelReport) -> None:
        self.view = funnel_view(report, compact=True)
        self.bars = [stage.conversion_from_entry for stage in report.overall.stages]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        columns = list(self.view.header[1:])
        for optional in _HIDDEN_WHEN_NARROW:
            narrowest = self._table(columns, bar_cells=0, stage_cells=_MIN_STAGE_CELLS)
            if natural_width(console, options, narrowest) <= width:
                break
            columns.remove(optional)
        room = width - natural_width(console, options, self._table(columns)) - _COLUMN_GAP
        yield self._table(columns, bar_cells=min(room, BAR_CELLS) if room >= _MIN_BAR_CELLS else 0)

    def _table(
        self, columns: Sequence[str], *, bar_cells: int = 0, stage_cells: int | None = None
    ) -> Table:
        caption = []
        if "Median" in columns or "P90" in columns:
            caption.append(self.view.note or FUNNEL_NOTE)
        hidden = [column for column in self.view.header[1:] if column not in columns]
        if hidden:
            caption.append("Hidden at this width: " + ", ".join(hidden) + ".")
        table = ruled_table(title=self.view.title, caption=" ".join(caption) or None)
        # With a bar the label keeps its line; without one it wraps before a number is cut.
        table.add_column("Stage", no_wrap=bar_cells > 0, overflow="fold", max_width=stage_cells)
        for header in columns:
            table.add_column(header, justify="right", no_wrap=True)
        if bar_cells:
            table.add_column("", width=bar_cells, no_wrap=True, overflow="crop")
        shown = [0, *(self.view.header.index(column) for column in columns)]
        for cells, fraction in zip(self.view.rows, self.bars, strict=True):
            row = [Text(cells[index]) for index in shown]
            if bar_cells:
                row.append(funnel_bar(fraction, bar_cells))
            table.add_row(*row)
        return table


class _SplitTable:
    """A breakdown (groups × stages) or the sales table. When too wide it is split, like a wide
    data frame: later columns continue below, each part repeating the first column(s); the
    sales table splits once, after its rates (`by_columns`)."""

    def __init__(self, view: TableView, *, by_columns: bool = False) -> None:
        self.view = view
        self.keep = 1 if by_columns else 2  # columns each part repeats: Group (and Entered)
        self.by_columns = by_columns

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rest = list(range(self.keep, len(self.view.header)))
        # A breakdown's group names wrap only once it is split; the sales table's always may.
        whole = self._table(rest, last=True, group_cells=_GROUP_CELLS if self.by_columns else None)
        if natural_width(console, options, whole) <= options.max_width:
            yield whole
            return
        if self.by_columns:
            parts = [rest[:5], rest[5:]]
        else:
            parts = [[]]
            for index in rest:
                wider = self._table([*parts[-1], index], group_cells=_GROUP_CELLS)
                if parts[-1] and natural_width(console, options, wider) > options.max_width:
                    parts.append([])
                parts[-1].append(index)
        for number, part in enumerate(parts):
            if number:
                yield NewLine()
            last = number == len(parts) - 1
            yield self._table(part, first=number == 0, last=last, group_cells=_GROUP_CELLS)

    def _table(
        self,
        columns: Sequence[int],
        *,
        first: bool = True,
        last: bool = False,
        group_cells: int | None,
    ) -> Table:
        continued = "" if first or self.by_columns else " (continued)"
        title = self.view.title + continued
        table = ruled_table(title=title, caption=self.view.note if last else None)
        header = self.view.header
        table.add_column(header[0], max_width=group_cells)
        if self.keep == 2:
            table.add_column(header[1], justify="right", no_wrap=True)
        for index in columns:
            table.add_column(Text(header[index]), justify="right", no_wrap=True)
        kept = list(range(self.keep))
        add_rows(table, self.view, [*kept, *columns], styles={Mark.few: "dim"})
        return table


def _histogram_table(report: FunnelReport, histogram: Histogram) -> Table:
    """`--histogram STAGE`: a bar per bin, the longest bar the fullest bin."""
    names = [stage.name for stage in report.overall.stages]  # the rows (order: any: stages_k)
    previous = names[names.index(histogram.stage) - 1]
    title = histogram_title(histogram, previous)
    table = ruled_table(title=title, caption=None)
    table.min_width = len(title)  # the title on one line
    table.add_column("Time", no_wrap=True)
    table.add_column("Ids", justify="right", no_wrap=True)
    table.add_column("", width=BAR_CELLS, no_wrap=True, overflow="crop")
    most = max((b.count for b in histogram.bins), default=0)
    for label, found in zip(histogram_labels(histogram), histogram.bins, strict=True):
        bar = funnel_bar(found.count / most if most else 0.0, BAR_CELLS)
        table.add_row(label, format_count(found.count), bar)
    return table


def _data_quality_panel(report: FunnelReport) -> Panel:
    quality = report.data_quality
    unit = "attempt" if report.funnel.per_attempt else "id"  # what the cohort counts
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("Rows read", Text(_per_name(quality.rows_read)))
    grid.add_row("Set aside", Text("\n".join(_set_aside(quality, unit)) or "none"))
    backwards_by_stage = {stage: n for stage, n in quality.backwards_by_stage.items() if n}
    backwards = _per_name(backwards_by_stage, [s.name for s in report.funnel.stages])
    grid.add_row(
        "Backwards times",
        Text(
            f"{plural(quality.backwards_ids, unit)} ({backwards})"
            if quality.backwards_ids
            else "none"
        ),
    )
    immature = f"{plural(quality.immature_ids, unit)} may still convert"
    grid.add_row("Immature", Text(immature if quality.immature_ids else "none"))
    for index, finding in enumerate(quality.findings):
        grid.add_row("Notes" if index == 0 else "", Text(finding_text(finding, quality)))
    return Panel(
        grid, title="Data quality", title_align="left", border_style="dim", box=box.ROUNDED
    )


def _set_aside(quality: DataQuality, unit: str = "id") -> Iterable[str]:
    """What was left out; `unit`: what the cohort's counts count (attempts: each)."""
    without_id = sum(quality.rows_without_id.values())
    if without_id:
        yield f"{plural(without_id, 'row')} without an id ({_per_name(quality.rows_without_id)})"
    if quality.ids_outside_period:
        yield f"{plural(quality.ids_outside_period, unit)} entered outside the period"
    if quality.ids_without_entry_time:
        yield f"{plural(quality.ids_without_entry_time, unit)} without an entry time"
    if quality.ids_filtered_out:
        yield f"{plural(quality.ids_filtered_out, unit)} removed by the filter"
    for item in quality.excluded:
        where = "the funnel" if item.scope == "funnel" else f"{item.between[1]} on"
        yield (
            f"{plural(item.ids, 'id')} excluded by {item.name} between "
            f"{item.between[0]} and {item.between[1]} (not counted from {where})"
        )
    rejected = sum(quality.rows_rejected.values())
    if rejected:
        reasons = " · ".join(f"{r} {format_count(n)}" for r, n in quality.rejects_by_reason.items())
        yield f"{plural(rejected, 'row')} rejected ({reasons})"
    duplicates = sum(quality.duplicate_ids.values())
    if duplicates:
        yield (
            f"{plural(duplicates, 'id')} on several rows, merged "
            f"({_per_name(quality.duplicate_ids)})"
        )


def _per_name(counts: dict[str, int], order: Sequence[str] = ()) -> str:
    """`leads 1,250 · deals 40`; "none" when empty."""
    pairs = ordered_counts(counts, order)
    return " · ".join(f"{name} {format_count(count)}" for name, count in pairs) or "none"
