"""The terminal view of `funnel report`: Rich tables with funnel bars, breakdowns and a
data-quality footer. This package (with periodic.py for summary/cohorts and roi.py for
`funnel roi`) and the cli package are the only places that import rich."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence

from rich import box
from rich.console import Console, ConsoleOptions, NewLine, RenderableType, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from funnelcli.outputs.report import Breakdown, DataQuality, FunnelReport, StageRow
from funnelcli.render.wording import (
    describe_cohort,
    describe_immature,
    finding_text,
    format_count,
    format_duration,
    format_number,
    format_percent,
    group_name,
    is_number,
    ordered_counts,
    plural,
)

BAR_CELLS = 30  # widest funnel bar; it shrinks first when the terminal is narrow
_MIN_BAR_CELLS = 8
_COLUMN_GAP = 2  # cells between two columns of a table made by _table()
_UNLIMITED = 10_000
_MIN_STAGE_CELLS = 12
_FUNNEL_COLUMNS = ("Count", "Step %", "Overall %", "Dropped", "Median", "P90", "Value")
_HIDDEN_WHEN_NARROW = ("Dropped", "P90", "Median")  # in this order, only when nothing else helps
_GROUP_CELLS = 28  # a longer group name wraps when the breakdown has to be split
_PARTIAL_BLOCKS = " ▏▎▍▌▋▊▉"  # index = eighths of a cell


def print_report(report: FunnelReport, console: Console) -> None:
    """Print the report on `console`; colour and width follow the console's settings."""
    for renderable in report_renderables(report):
        console.print(renderable)


def report_renderables(report: FunnelReport) -> list[RenderableType]:
    """The report as Rich renderables, top to bottom: title, funnel, breakdowns, data quality."""
    sections: list[RenderableType] = [_title(report), _FunnelTable(report)]
    sections += [
        _BreakdownTable(breakdown, report.min_n)
        for breakdown in report.breakdowns
        if breakdown.groups
    ]
    sales = _sales_table(report)
    if sales is not None:
        sections.append(sales)
    if report.period.immature:
        sections.append(
            Text.assemble(("Immature: ", "bold yellow"), (describe_immature(report), "yellow"))
        )
    sections.append(_data_quality_panel(report))
    renderables: list[RenderableType] = []
    for index, section in enumerate(sections):
        renderables += [NewLine(), section] if index else [section]
    return renderables


def report_plain_text(report: FunnelReport, *, width: int) -> str:
    """The terminal view as plain text (no colour, no control codes) at `width` columns."""
    return plain_console_text(lambda console: print_report(report, console), width=width)


def plain_console_text(draw: Callable[[Console], None], *, width: int) -> str:
    """What `draw` prints to a colourless console of `width` columns, without line-end padding."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system=None,
        force_terminal=False,
        no_color=True,
        legacy_windows=False,
    )
    draw(console)
    # Tables pad cells with spaces; a file should not carry them at line ends.
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def funnel_bar(fraction: float | None, cells: int) -> Text:
    """A bar of block characters filling `fraction` of `cells`, in eighths of a cell."""
    fraction = min(max(fraction or 0.0, 0.0), 1.0)
    eighths = round(fraction * cells * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1  # a stage somebody reached never looks empty
    full, rest = divmod(eighths, 8)
    return Text("█" * full + (_PARTIAL_BLOCKS[rest] if rest else ""), style="cyan")


def _natural_width(console: Console, options: ConsoleOptions, table: Table) -> int:
    """The width `table` takes when nothing has to shrink (Rich measures within max_width)."""
    return Measurement.get(console, options.update_width(_UNLIMITED), table).maximum


def _title(report: FunnelReport) -> Text:
    funnel = report.funnel
    facts = [funnel.name, f"{funnel.grain} grain", f"{funnel.order} order"]
    if funnel.window:
        facts.append(f"window {funnel.window}")
    if funnel.filter:
        facts.append(f"filter {funnel.filter}")
    title = Text.assemble(
        (funnel.title or funnel.name, "bold"), "  ", (" · ".join(facts), "dim"), "\n"
    )
    title.append(describe_cohort(report.period, funnel.window), style="dim")
    return title


class _FunnelTable:
    """The overall funnel. Numbers are never shortened: on a narrow terminal the bar narrows or
    goes, long stage labels wrap, and as a last resort the least needed columns are hidden."""

    def __init__(self, report: FunnelReport) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        columns = list(_FUNNEL_COLUMNS)
        for optional in _HIDDEN_WHEN_NARROW:
            narrowest = self._table(columns, bar_cells=0, stage_cells=_MIN_STAGE_CELLS)
            if _natural_width(console, options, narrowest) <= width:
                break
            columns.remove(optional)
        room = width - _natural_width(console, options, self._table(columns)) - _COLUMN_GAP
        yield self._table(columns, bar_cells=min(room, BAR_CELLS) if room >= _MIN_BAR_CELLS else 0)

    def _table(
        self, columns: Sequence[str], *, bar_cells: int = 0, stage_cells: int | None = None
    ) -> Table:
        caption = []
        if "Median" in columns or "P90" in columns:
            caption.append("Median and P90: time from the previous stage.")
        hidden = [column for column in _FUNNEL_COLUMNS if column not in columns]
        if hidden:
            caption.append("Hidden at this width: " + ", ".join(hidden) + ".")
        table = _table(
            title=plural(self.report.overall.entered, self.report.funnel.grain) + " entered",
            caption=" ".join(caption) or None,
        )
        # With a bar the label keeps its line; without one it wraps before a number is cut.
        table.add_column("Stage", no_wrap=bar_cells > 0, overflow="fold", max_width=stage_cells)
        for header in columns:
            table.add_column(header, justify="right", no_wrap=True)
        if bar_cells:
            table.add_column("", width=bar_cells, no_wrap=True, overflow="crop")
        stages = self.report.overall.stages
        first = stages[0].count if stages else 0
        # Cents are noise next to large sums (and cost bar width); the exact sums are in --format.
        values = [
            abs(s.value_sum) for s in stages if s.value_sum is not None and is_number(s.value_sum)
        ]
        decimals = 0 if values and max(values) >= 1000 else 2
        for stage in stages:
            cells = _stage_cells(stage, decimals)
            # Text, never str: a CRM label like "[VIP]" must not be read as Rich markup.
            row = [Text(stage.label), *(Text(cells[header]) for header in columns)]
            if bar_cells:
                row.append(funnel_bar(stage.count / first if first else None, bar_cells))
            table.add_row(*row)
        return table


def _table(*, title: str, caption: str | None) -> Table:
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


def _stage_cells(stage: StageRow, value_decimals: int) -> dict[str, str]:
    return {
        "Count": format_count(stage.count),
        "Step %": format_percent(stage.conversion_from_previous),
        "Overall %": format_percent(stage.conversion_from_entry),
        "Dropped": format_count(stage.dropped),
        "Median": format_duration(stage.time_from_previous.median_days),
        "P90": format_duration(stage.time_from_previous.p90_days),
        "Value": format_number(stage.value_sum, value_decimals),
    }


class _BreakdownTable:
    """Groups × stages, each cell "count overall-%"; split into several tables when too wide."""

    def __init__(self, breakdown: Breakdown, min_n: int) -> None:
        self.breakdown = breakdown
        self.min_n = min_n

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # Like a wide data frame: later stages continue below, each part repeating the groups.
        stages = list(range(len(self.breakdown.groups[0].stages)))
        whole = self._table(stages, first=True, last=True)
        if _natural_width(console, options, whole) <= options.max_width:
            yield whole
            return
        parts: list[list[int]] = [[]]
        for index in stages:
            wider = self._table([*parts[-1], index], group_cells=_GROUP_CELLS)
            if parts[-1] and _natural_width(console, options, wider) > options.max_width:
                parts.append([])
            parts[-1].append(index)
        for number, part in enumerate(parts):
            if number:
                yield NewLine()
            last = number == len(parts) - 1
            yield self._table(part, first=number == 0, last=last, group_cells=_GROUP_CELLS)

    def _table(
        self,
        stage_indexes: Sequence[int],
        *,
        first: bool = True,
        last: bool = False,
        group_cells: int | None = None,
    ) -> Table:
        groups = self.breakdown.groups
        caption = None
        if last:
            caption = "Per stage: count and % of the group's entries."
            if any(group.below_min_n for group in groups):
                caption += f"\n* fewer than {self.min_n:,} entries"
        title = "By " + " + ".join(self.breakdown.by) + ("" if first else " (continued)")
        table = _table(title=title, caption=caption)
        table.add_column("Group", max_width=group_cells)
        table.add_column("Entered", justify="right", no_wrap=True)
        for index in stage_indexes:
            table.add_column(Text(groups[0].stages[index].label), justify="right", no_wrap=True)
        for group in groups:
            name = Text(group_name(group.key) + ("*" if group.below_min_n else ""))
            cells = [
                Text(f"{format_count(stage.count)} {format_percent(stage.conversion_from_entry)}")
                for stage in (group.stages[index] for index in stage_indexes)
            ]
            style = "dim" if group.below_min_n else None
            table.add_row(name, Text(format_count(group.entered)), *cells, style=style)
        return table


def _sales_table(report: FunnelReport) -> _SalesTable | None:
    """Win rates, cycle and velocity, overall and per group (render/sales.py)."""
    from funnelcli.render.sales import sales_rows

    rows = sales_rows(report)
    return _SalesTable(report, rows) if rows else None


class _SalesTable:
    """Groups × sales metrics; numbers are never cut: when too wide, the columns are split
    into two tables (counts and rates, then cycle, deal value and velocity)."""

    def __init__(self, report: FunnelReport, rows: list[tuple[str, tuple[str, ...] | None]]):
        self.report = report
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from funnelcli.render.sales import SALES_HEADER

        everything = list(range(len(SALES_HEADER)))
        whole = self._table(everything, last=True)
        if _natural_width(console, options, whole) <= options.max_width:
            yield whole
            return
        yield self._table(everything[:5], last=False)
        yield NewLine()
        yield self._table(everything[5:], last=True)

    def _table(self, columns: Sequence[int], *, last: bool) -> Table:
        from funnelcli.render.sales import SALES_HEADER, sales_caption, sales_title

        table = _table(title=sales_title(self.report), caption=sales_caption() if last else None)
        table.add_column("Group", max_width=_GROUP_CELLS)
        for index in columns:
            table.add_column(SALES_HEADER[index], justify="right", no_wrap=True)
        for label, cells in self.rows:
            if cells is None:  # a breakdown's heading
                heading = Text(label, style="italic", no_wrap=True, overflow="ellipsis")
                table.add_row(heading, *([Text("")] * len(columns)))
            else:
                table.add_row(Text(label), *(Text(cells[index]) for index in columns))
        return table


def _data_quality_panel(report: FunnelReport) -> Panel:
    quality = report.data_quality
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("Rows read", Text(_per_name(quality.rows_read)))
    grid.add_row("Set aside", Text("\n".join(_set_aside(quality)) or "none"))
    backwards_by_stage = {stage: n for stage, n in quality.backwards_by_stage.items() if n}
    backwards = _per_name(backwards_by_stage, [s.name for s in report.funnel.stages])
    grid.add_row(
        "Backwards times",
        Text(
            f"{plural(quality.backwards_ids, 'id')} ({backwards})"
            if quality.backwards_ids
            else "none"
        ),
    )
    immature = f"{plural(quality.immature_ids, 'id')} may still convert"
    grid.add_row("Immature", Text(immature if quality.immature_ids else "none"))
    for index, finding in enumerate(quality.findings):
        grid.add_row("Notes" if index == 0 else "", Text(finding_text(finding, quality)))
    return Panel(
        grid, title="Data quality", title_align="left", border_style="dim", box=box.ROUNDED
    )


def _set_aside(quality: DataQuality) -> Iterable[str]:
    without_id = sum(quality.rows_without_id.values())
    if without_id:
        yield f"{plural(without_id, 'row')} without an id ({_per_name(quality.rows_without_id)})"
    if quality.ids_outside_period:
        yield f"{plural(quality.ids_outside_period, 'id')} entered outside the period"
    if quality.ids_without_entry_time:
        yield f"{plural(quality.ids_without_entry_time, 'id')} without an entry time"
    if quality.ids_filtered_out:
        yield f"{plural(quality.ids_filtered_out, 'id')} removed by the filter"
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


class QueryProgress:
    """A progress bar on stderr while DuckDB reads the sources: the query's done fraction as
    bytes of the source files (an estimate: DuckDB reports progress over the whole plan), with
    elapsed time and ETA. Shown only after `delay` seconds so small files never flash a bar;
    removed when done. Called from the engine's polling thread (rich's Progress is
    thread-safe)."""

    def __init__(self, console: Console, label: str, total_bytes: int, delay: float = 0.5) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task(label, total=max(total_bytes, 1), start=False)
        self._total = max(total_bytes, 1)
        self._delay = delay
        self._started_at: float | None = None
        self._shown = False

    def __enter__(self) -> QueryProgress:
        import time

        self._started_at = time.monotonic()
        return self

    def __call__(self, fraction: float) -> None:
        import time

        if self._started_at is None or time.monotonic() - self._started_at < self._delay:
            return
        if not self._shown:
            self._shown = True
            self._progress.start()
            self._progress.start_task(self._task)
        self._progress.update(self._task, completed=int(fraction * self._total))

    def __exit__(self, *_: object) -> None:
        self._started_at = None  # late calls from the polling thread do nothing
        if self._shown:
            self._progress.stop()
