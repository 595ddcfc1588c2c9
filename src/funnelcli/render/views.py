"""Every artifact's tables as text cells (TableView), built once and laid out by each format.

The terminal, Markdown and HTML show the same cells from the same builders; `compact` is the
terminal's variant (shorter headers, durations in d/h, "80 44.4%" instead of "80 (44.4%)").
Views only word and format numbers the artifact holds: nothing here computes a metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from funnelcli.render.wording import (
    IMMATURE_MARK,
    NULL_TEXT,
    breakdown_name,
    count_delta,
    days_delta,
    format_amount,
    format_count,
    format_days,
    format_duration,
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    group_name,
    is_number,
    p_below,
    plural,
    points,
    verdict_text,
)

if TYPE_CHECKING:
    from funnelcli.outputs.cohorts import CohortMatrix
    from funnelcli.outputs.report import FunnelReport, SalesMetrics
    from funnelcli.outputs.summary import PeriodSummary, StageComparison, Summary


class Mark(StrEnum):
    """How a row stands out from the others."""

    significant = "significant"  # a significant change: strong
    few = "few"  # a group below min_n: faint
    total = "total"  # a total after the other rows (ROI's blended row): bold
    heading = "heading"  # a heading over the rows below it: first cell only, in italics


@dataclass(frozen=True)
class TableView:
    """A titled table of text cells: the first column names the row, the others are numbers.
    `marks[i]` says how row i stands out (None: it does not); `sections` are the rows that
    start a new section (the terminal draws a rule above them)."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    marks: tuple[Mark | None, ...]
    note: str = ""
    sections: tuple[int, ...] = ()


Row = tuple[Sequence[str], Mark | None]  # a row's cells and how it stands out


def view(
    title: str,
    header: Sequence[str],
    rows: Sequence[Row],
    note: str = "",
    sections: tuple[int, ...] = (),
) -> TableView:
    return TableView(
        title,
        tuple(header),
        tuple(tuple(cells) for cells, _ in rows),
        tuple(mark for _, mark in rows),
        note,
        sections,
    )


def _share(count: int, rate: float | None, compact: bool) -> str:
    """A count and its rate: "80 (44.4%)", or "80 44.4%" where room is short."""
    share = format_percent(rate)
    return f"{format_count(count)} {share}" if compact else f"{format_count(count)} ({share})"


# funnel report ---------------------------------------------------------------------------------

FUNNEL_NOTE = "Median and P90: time from the previous stage."
EACH_NOTE = "Entered and per stage: attempts (attempts: each); Ids: the ids whose attempts entered."
ANY_NOTE = "Median and P90: time from the previous row (the stage done before, in any order)."
SALES_HEADER = ("Won", "Lost", "Open", "Closed win", "Open win", "Cycle d", "Avg deal",
                "Velocity/d")  # fmt: skip
SALES_NOTE = (
    "Closed win = won/(won+lost); open win = won/entered; cycle = median days entry → won; "
    "velocity/d = open × avg deal × win rate ÷ cycle days."
)


def funnel_view(report: FunnelReport, *, compact: bool) -> TableView:
    """The overall funnel, one row per stage (and Ids under attempts: each). `compact`: times as
    durations (3.5d, 18.0h), no cents when a sum reaches 1,000 (exact sums are in --format)."""
    stages = report.overall.stages
    times = ("Median", "P90") if compact else ("Median days (from prev)", "P90 days")
    each = report.funnel.per_attempt  # counts are attempts, the keys (ids) beside them
    header = ("Stage", "Count", *("Ids",) * each, "Step %", "Overall %", "Dropped", *times, "Value")
    time_text = format_duration if compact else format_days
    sums = [abs(s.value_sum) for s in stages if s.value_sum is not None and is_number(s.value_sum)]
    # Cents are noise next to large sums in the terminal (and cost bar width); exact in --format.
    decimals = 0 if compact and sums and max(sums) >= 1000 else 2
    rows = [
        (
            (
                stage.label,
                format_count(stage.count),
                *(format_count(stage.ids),) * each,
                format_percent(stage.conversion_from_previous),
                format_percent(stage.conversion_from_entry),
                format_count(stage.dropped),
                time_text(stage.time_from_previous.median_days),
                time_text(stage.time_from_previous.p90_days),
                format_number(stage.value_sum, decimals),
            ),
            None,
        )
        for stage in stages
    ]
    title = plural(report.overall.entered, "attempt" if each else report.funnel.grain) + " entered"
    title += f" ({plural(stages[0].ids or 0, report.funnel.grain)})" if each else ""
    return view(title, header, rows, ANY_NOTE if report.funnel.rows else FUNNEL_NOTE)


def breakdown_views(report: FunnelReport, *, compact: bool) -> list[TableView]:
    """Groups × stages per breakdown, each cell the count and the % of the group's entries;
    a group below min_n is starred."""
    views = []
    each = report.funnel.per_attempt  # Entered is attempts; Ids the keys that entered
    for breakdown in report.breakdowns:
        if not breakdown.groups:
            continue
        groups = breakdown.groups
        labels = [stage.label for stage in groups[0].stages]
        rows = []
        for group in groups:
            cells = [_share(s.count, s.conversion_from_entry, compact) for s in group.stages]
            name = group_name(group.key) + ("*" if group.below_min_n else "")
            mark = Mark.few if group.below_min_n else None
            ids = (format_count(group.stages[0].ids),) * each
            rows.append(((name, format_count(group.entered), *ids, *cells), mark))
        few = any(group.below_min_n for group in groups)
        if compact:
            note = "Per stage: count and % of the group's entries."
            note += f"\n* fewer than {report.min_n:,} entries" if few else ""
        else:
            note = f"* fewer than {report.min_n:,} entries: too few to compare." if few else ""
        note = (EACH_NOTE + ("\n" if note else "")) * each + note
        title = "By " + " + ".join(breakdown.by)
        header = ("Group", "Entered", *("Ids",) * each, *labels)
        views.append(view(title, header, rows, note))
    return views


def sales_view(report: FunnelReport) -> TableView | None:
    """Win rates, cycle and velocity (docs/sales.md): the whole cohort, then each breakdown's
    groups under a heading row; None without a won: stage."""
    if report.overall.sales is None or len(report.overall.stages) < 2:
        return None
    rows: list[Row] = [(("All", *_sales_cells(report.overall.sales)), None)]
    for breakdown in report.breakdowns:
        if not breakdown.groups:
            continue
        heading = "by " + " + ".join(breakdown.by)
        rows.append(((heading, *[""] * len(SALES_HEADER)), Mark.heading))
        for group in breakdown.groups:
            if group.sales is not None:
                rows.append(((group_name(group.key), *_sales_cells(group.sales)), None))
    title = f"Sales (won = {report.overall.sales.won_stage})"
    return view(title, ("Group", *SALES_HEADER), rows, SALES_NOTE)


def _sales_cells(sales: SalesMetrics) -> tuple[str, ...]:
    return (
        format_count(sales.won),
        format_count(sales.lost),
        format_count(sales.open),
        format_percent(sales.win_rate_closed),
        format_percent(sales.win_rate_open),
        format_number(sales.cycle_median_days, 1),
        format_number(sales.average_deal_value, 0),
        format_number(sales.sales_velocity, 0),
    )


# summary ---------------------------------------------------------------------------------------

_COMPACT = (0, 1, 3, 4, 5, 7, 8, 9, 10)  # Stage Count Δ Step% CI Δ p Verdict Median


def summary_views(summary: Summary, *, compact: bool) -> list[TableView]:
    """Every table of the summary, top to bottom: against the previous period, against a year
    earlier (when the data reaches back), the biggest groups."""
    current, previous = summary.current.label, summary.previous.label
    views = [
        comparison_view(
            summary, summary.stages, summary.previous, f"{current} against {previous}", compact
        )
    ]
    if summary.year_ago is not None and summary.year_ago_stages is not None:
        title = f"{current} against a year earlier ({summary.year_ago.label})"
        views.append(
            comparison_view(summary, summary.year_ago_stages, summary.year_ago, title, compact)
        )
    if summary.groups:
        views.append(groups_view(summary))
    from funnelcli.render.risk_views import churn_watch_view  # the risk: block's section

    return views + ([churn_watch_view(summary.churn_watch)] if summary.churn_watch else [])


def comparison_view(
    summary: Summary,
    stages: Sequence[StageComparison],
    reference: PeriodSummary,
    title: str,
    compact: bool,
) -> TableView:
    """Per stage: count, step conversion with its interval and test, median time, value.

    `compact` (the terminal) leaves out the reference period's own values, the median's change
    and the value, keeping every change, interval and test.
    """
    ref = reference.label
    has_value = any(s.metrics["value_sum"].current is not None for s in stages)
    header = ["Stage", "Count", ref, "Δ", "Step %", "95% CI", ref, "Δ", "p", "Verdict"]
    header += ["Median", "Δ", *(["Value", "Δ"] if has_value else [])]
    rows = []
    for stage in stages:
        count = stage.metrics["count"]
        step = stage.metrics["conversion_from_previous"]
        median = stage.metrics["median_days_from_previous"]
        row = [
            stage.label,
            format_count(_int(count.current)),
            format_count(_int(count.previous)),
            count_delta(count),
            format_percent(step.current),
            format_interval(step.current_interval),
            format_percent(step.previous),
            points(step.delta),
            format_p_value(step.p_value),
            verdict_text(step, summary.min_n),
            format_days(median.current, "d"),
            days_delta(median),
        ]
        if has_value:
            value = stage.metrics["value_sum"]
            delta = count_delta(value) if value.current is not None else NULL_TEXT
            row += [format_amount(value.current), delta]
        if compact:
            row = [row[i] for i in _COMPACT]
        rows.append((row, Mark.significant if step.significant else None))
    if compact:
        header = [header[i] for i in _COMPACT]
    note = (
        f"Step %: conversion from the previous stage, Wilson 95% interval; p: two-proportion "
        f"z-test against {ref}; significant only when final, {p_below()} and n ≥ {summary.min_n} "
        "in both periods. Median: days from the previous stage."
    )
    return view(title, header, rows, note)


def groups_view(summary: Summary) -> TableView:
    """The biggest groups: entries and conversion from entry per stage, with the change."""
    header = [
        breakdown_name(summary.breakdown),
        "Entered",
        "Δ",
        *[f"{s.label} %" for s in summary.stages[1:]],
    ]
    rows = []
    for group in summary.groups:
        cells = [
            group_name(group.key),
            format_count(group.entered_current),
            count_delta(group.stages[0].metrics["count"]),
        ]
        significant = False
        for stage in group.stages[1:]:
            change = stage.metrics["conversion_from_entry"]
            star = "*" if change.significant else ""
            significant |= change.significant
            cells.append(f"{format_percent(change.current)} ({points(change.delta, '')}){star}")
        rows.append((cells, Mark.significant if significant else None))
    note = (
        f"Conversion from entry in {summary.current.label}, change against "
        f"{summary.previous.label} in percentage points; * significant (as above)."
    )
    title = f"By {breakdown_name(summary.breakdown)} (biggest {len(summary.groups)})"
    return view(title, header, rows, note)


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


# cohorts ---------------------------------------------------------------------------------------


def cohort_view(matrix: CohortMatrix, *, compact: bool) -> TableView:
    """One row per entry cohort, one column per stage after the first: the count and the
    conversion from entry, immature cells marked ~, periods that had not ended (partial)."""
    funnel = matrix.funnel
    rows = []
    for row in matrix.rows:
        cells = [row.label + (" (partial)" if row.partial else ""), format_count(row.entered)]
        for cell in row.cells[1:]:
            rate = cell.conversion_from_entry
            text = NULL_TEXT if rate is None else _share(cell.count, rate, compact)
            cells.append(text + (IMMATURE_MARK if row.immature else ""))
        rows.append((cells, None))
    window = funnel.window or "window"
    if compact:
        note = (
            f"Cells: count and conversion from entry. {IMMATURE_MARK} immature: the cohort is "
            f"younger than the {window} window at {matrix.as_of} and may still convert. "
            "(partial): the period had not ended."
        )
    else:
        note = (
            f"Cells: count (conversion from entry). {IMMATURE_MARK} immature: the cohort is "
            f"younger than the {window} window and may still convert."
        )
    title = f"Entry cohorts by {matrix.period} · {funnel.title or funnel.name}"
    header = ("Cohort", "Entered", *(stage.label for stage in funnel.stages[1:]))
    return view(title, header, rows, note)
