"""The summary's wording and tables as plain strings, shared by the table, markdown and HTML
renderers so they all say the same thing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from funnelcli.outputs.summary import (
    SIGNIFICANCE_LEVEL,
    AlertResult,
    PeriodSummary,
    StageComparison,
    Summary,
)
from funnelcli.render.wording import (
    NULL_TEXT,
    count_delta,
    days_delta,
    format_amount,
    format_count,
    format_days,
    format_interval,
    format_p_value,
    format_percent,
    group_name,
    plural,
    points,
    verdict_text,
)


@dataclass(frozen=True)
class TableView:
    """A titled table of text cells; `marks[i]` flags row i as holding a significant change."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    marks: tuple[bool, ...]
    note: str = ""


def period_text(period: PeriodSummary) -> str:
    """e.g. "2026-W01 (2025-12-29 – 2026-01-04)": the label and its inclusive local dates."""
    from datetime import date, timedelta

    last = date.fromisoformat(period.end[:10]) - timedelta(days=1)
    return f"{period.label} ({period.start[:10]} – {last.isoformat()})"


def headline(summary: Summary) -> str:
    kind = "Weekly" if summary.period == "week" else "Monthly"
    return f"{kind} summary · {summary.funnel.title or summary.funnel.name}"


def facts(summary: Summary) -> str:
    """One line: the compared periods, the anchor and the calendar."""
    parts = [
        f"{period_text(summary.current)} vs {period_text(summary.previous)}",
        f"as of {summary.as_of} UTC",
        f"periods in {summary.timezone}",
    ]
    if summary.period == "week":
        parts.append(f"weeks start {summary.week_start}")
    return " · ".join(parts)


def alert_values(alert: AlertResult) -> str:
    """The values an alert was checked against, e.g. "(now 3, before 1)"."""

    def show(value: float | None) -> str:
        return NULL_TEXT if value is None else f"{value:,.4g}"

    return f"(now {show(alert.current)}, before {show(alert.previous)})"


def alert_text(alert: AlertResult) -> str:
    return f"{alert.expression} {alert_values(alert)}"


def alert_lines(summary: Summary) -> list[str]:
    """One line per alert met, else one line saying none were (nothing without --fail-on)."""
    met = summary.alerts_met
    if met:
        return [f"ALERT: {alert_text(alert)}" for alert in met]
    if summary.alerts:
        return [f"No alert met ({plural(len(summary.alerts), 'condition')} checked)."]
    return []


def maturity_note(summary: Summary) -> str | None:
    """Why later-stage changes are provisional, when a compared period is immature."""
    young = [p.label for p in (summary.current, summary.previous) if p.immature]
    if not young:
        return None
    window = summary.funnel.window or "the window"
    return (
        f"Immature: ids that entered in {' and '.join(young)} are younger than the {window} "
        f"window at {summary.as_of} and may still convert. Their later-stage numbers are "
        "provisional, so their changes are not called significant; entries are final."
    )


def highlights(summary: Summary) -> list[str]:
    """What changed, in a few sentences: entries, then every significant conversion change."""
    entries = summary.stages[0].metrics["count"]
    lines = [
        f"Entries: {format_count(summary.current.entered)} in {summary.current.label}, "
        f"{count_delta(entries)} against {summary.previous.label}."
    ]
    changes = [
        (stage, stage.metrics["conversion_from_previous"])
        for stage in summary.stages[1:]
        if stage.metrics["conversion_from_previous"].significant
    ]
    for stage, change in changes:
        lines.append(
            f"{stage.label}: step conversion {format_percent(change.current)} "
            f"({points(change.delta)}, p = {format_p_value(change.p_value)}), significant."
        )
    if not changes:
        if summary.current.immature or summary.previous.immature:
            why = "later stages are provisional while the periods are immature"
        else:
            why = (
                f"none reaches p < {SIGNIFICANCE_LEVEL:g} with n ≥ {summary.min_n} in both periods"
            )
        lines.append(f"No significant change in step conversion: {why}.")
    return lines


def comparison_table(
    summary: Summary,
    stages: Sequence[StageComparison],
    reference: PeriodSummary,
    title: str,
    *,
    compact: bool = False,
) -> TableView:
    """Per stage: count, step conversion with its interval and test, median time, value.

    `compact` (the terminal) leaves out the reference period's own values, the median's change
    and the value, keeping every change, interval and test.
    """
    ref = reference.label
    has_value = any(s.metrics["value_sum"].current is not None for s in stages)
    header = [
        "Stage",
        "Count",
        ref,
        "Δ",
        "Step %",
        "95% CI",
        ref,
        "Δ",
        "p",
        "Verdict",
        "Median",
        "Δ",
    ]
    if has_value:
        header += ["Value", "Δ"]
    rows = []
    marks = []
    for stage in stages:
        m = stage.metrics
        count, step, median = (
            m["count"],
            m["conversion_from_previous"],
            m["median_days_from_previous"],
        )
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
            value = m["value_sum"]
            row += [
                format_amount(value.current),
                count_delta(value) if value.current is not None else NULL_TEXT,
            ]
        if compact:
            row = [row[i] for i in _COMPACT]
        rows.append(tuple(row))
        marks.append(step.significant)
    if compact:
        header = [header[i] for i in _COMPACT]
    note = (
        f"Step %: conversion from the previous stage, Wilson 95% interval; p: two-proportion "
        f"z-test against {ref}; significant only when final, p < {SIGNIFICANCE_LEVEL:g} and "
        f"n ≥ {summary.min_n} "
        "in both periods. Median: days from the previous stage."
    )
    return TableView(title, tuple(header), tuple(rows), tuple(marks), note)


_COMPACT = (0, 1, 3, 4, 5, 7, 8, 9, 10)  # Stage Count Δ Step% CI Δ p Verdict Median


def groups_table(summary: Summary) -> TableView | None:
    """The biggest groups: entries and conversion from entry per stage, with the change."""
    if not summary.groups:
        return None
    stages = summary.stages[1:]
    header = ["+".join(summary.breakdown), "Entered", "Δ", *[f"{s.label} %" for s in stages]]
    rows = []
    marks = []
    for group in summary.groups:
        entered = group.stages[0].metrics["count"]
        cells = [
            group_name(group.key),
            format_count(group.entered_current),
            count_delta(entered),
        ]
        significant = False
        for stage in group.stages[1:]:
            change = stage.metrics["conversion_from_entry"]
            star = "*" if change.significant else ""
            significant |= change.significant
            delta = points(change.delta, unit="")
            cells.append(f"{format_percent(change.current)} ({delta}){star}")
        rows.append(tuple(cells))
        marks.append(significant)
    note = (
        f"Conversion from entry in {summary.current.label}, change against "
        f"{summary.previous.label} in percentage points; * significant (as above)."
    )
    return TableView(
        f"By {'+'.join(summary.breakdown)} (biggest {len(summary.groups)})",
        tuple(header),
        tuple(rows),
        tuple(marks),
        note,
    )


def tables(summary: Summary, *, compact: bool = False) -> list[TableView]:
    """Every table of the summary, top to bottom."""
    views = [
        comparison_table(
            summary,
            summary.stages,
            summary.previous,
            f"{summary.current.label} against {summary.previous.label}",
            compact=compact,
        )
    ]
    if summary.year_ago is not None and summary.year_ago_stages is not None:
        views.append(
            comparison_table(
                summary,
                summary.year_ago_stages,
                summary.year_ago,
                f"{summary.current.label} against a year earlier ({summary.year_ago.label})",
                compact=compact,
            )
        )
    groups = groups_table(summary)
    if groups is not None:
        views.append(groups)
    return views


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)
