"""`funnel stalled`, `trace` and `drivers`: their tables as text cells (TableView), their words
(a trace rule in docs/semantics.md's terms) and their Markdown. Nothing here computes a number.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from funnelcli.render.markdown import escape, table
from funnelcli.render.views import Mark, TableView
from funnelcli.render.wording import (
    NULL_TEXT,
    format_count,
    format_number,
    format_p_value,
    format_percent,
    plural,
)

if TYPE_CHECKING:
    from funnelcli.outputs.drivers import Drivers
    from funnelcli.outputs.stalled import StalledList
    from funnelcli.outputs.trace import Trace, TracedStage

# funnel stalled --------------------------------------------------------------------------------


def stalled_title(result: StalledList) -> str:
    verb = "dropped at" if result.listing == "dropped" else "waiting at"
    title = f"{plural(len(result.ids), 'id')} {verb} {result.stage} (not {result.next_stage})"
    return title + (f", waiting ≥ {result.older_than}" if result.older_than else "")


def stalled_note(result: StalledList) -> str:
    c = result.counts
    window = f"the {result.window} window" if result.window else "no window: nothing runs out"
    return (
        f"{result.stage} {format_count(c.at_stage)} − {result.next_stage} "
        f"{format_count(c.next_stage)} = stalled {format_count(c.stalled)} + dropped "
        f"{format_count(c.dropped)} ({window}); as of {result.as_of or NULL_TEXT} UTC."
    )


def stalled_view(result: StalledList) -> TableView:
    """One row per id (days waiting, longest first); with --by a heading row per group."""
    shown = [d for d in result.dimensions if d not in result.by]
    value = ("Value",) if result.has_value else ()
    header = ("Id", "Entered", "Reached", "Days waiting", *value, *shown)
    rows: list[tuple[str, ...]] = []
    marks: list[Mark | None] = []
    group: tuple[str, ...] | None = None
    sizes = Counter(tuple(i.attributes[b] for b in result.by) for i in result.ids)
    for item in result.ids:
        key = tuple(item.attributes[b] for b in result.by)
        if result.by and key != group:
            group = key
            size = sizes[key]
            label = " + ".join(f"{b}={v}" for b, v in zip(result.by, key, strict=True))
            rows.append((f"{label} ({format_count(size)})", *[""] * (len(header) - 1)))
            marks.append(Mark.heading)
        cells = (
            item.id,
            (item.entered_at or NULL_TEXT)[:10],  # the day; the time is in csv and json
            (item.reached_at or "(implied)")[:10],
            format_number(item.days_waiting, 1),
            *((format_number(item.value, 2),) if result.has_value else ()),
            *(item.attributes.get(d, NULL_TEXT) for d in shown),
        )
        rows.append(cells)
        marks.append(None)
    return TableView(stalled_title(result), header, tuple(rows), tuple(marks), stalled_note(result))


def stalled_markdown(result: StalledList) -> str:
    view = stalled_view(result)
    lines = [f"# {escape(view.title)}", "", escape(view.note), "", *table(view), ""]
    return "\n".join(lines)


# funnel trace ----------------------------------------------------------------------------------

EXCLUSION_WORDS = {
    "not_in_funnel": "not in the funnel: it never reached the first stage",
    "no_entry_time": "no entry time, so it cannot be placed in --since/--until",
    "outside_period": "its entry is outside [--since, --until) (cohort bounds)",
    "filtered_out": "the filter: is not true on its attributes as of entry",
    "rejected_rows": "every row of it was rejected (a time that cannot be read)",
}


def rule_text(stage: TracedStage, window: str | None) -> str:
    """A stage's verdict in docs/semantics.md's words."""
    at, limit, other = stage.evidence_at, stage.limit, stage.other_stage
    words = {
        "counted": f"reached at {stage.reached_at}: its earliest qualifying evidence time",
        "counted_untimed": "reached: evidence without a time is accepted without checks",
        "implied": "reached by implication: a later stage was reached (order: backfill); "
        "no time, no value",
        "no_evidence": "not counted: no row is evidence for this stage",
        "rejected_row": "not counted, rejected row: its time on this key's row cannot be read "
        "(the row is set aside; see Rejected rows)",
        "after_as_of": f"not counted, after the as-of: evidence at {at} is after --as-of "
        f"{limit} (shown, not counted)",
        "outside_window": f"not counted, outside window: evidence at {at} is after entry + "
        f"window {window} ({limit})",
        "within_not_met": f"not counted, within not met: evidence at {at} is after {other} + "
        f"within ({limit})",
        "strict_order": f"not counted, strict order: the id stopped at {other}",
        "backwards_time": f"not counted, backwards time: evidence at {at} is before {other} "
        f"({limit}), which order: strict does not accept",
        "unexplained": "not counted, and no rule of docs/semantics.md explains it (a bug: "
        "please report it)",
    }
    return words[stage.rule]


def trace_views(trace: Trace) -> list[TableView]:
    """The stages with their verdicts, then every evidence row."""
    stages = tuple(
        (
            s.stage,
            "yes" if s.counted else "no",
            s.reached_at or NULL_TEXT,
            format_number(s.value, 2) if s.value is not None else NULL_TEXT,
            rule_text(s, trace.window),
        )
        for s in trace.stages
    )
    path = TableView(
        f"{trace.id}: entered {trace.entry_at or NULL_TEXT}",
        ("Stage", "Counted", "At", "Value", "Why"),
        stages,
        tuple(None for _ in stages),
        trace_note(trace),
    )
    rows = tuple(
        (
            f"{r.file}:{r.line}" if r.line is not None else f"{r.file} row {r.row}",
            (
                "; ".join(
                    f"{s.stage} {s.at or '(untimed)'}"
                    + (" (after the as-of: not counted)" if s.after_as_of else "")
                    for s in r.stages
                )
                or "no stage"
            )
            + (" (lost)" if r.lost and not r.lost_after_as_of else "")
            + (" (lost after the as-of: not counted)" if r.lost_after_as_of else ""),
        )
        for r in trace.evidence
    )
    evidence = TableView(
        f"Evidence rows ({len(rows)})",
        ("File:line", "Evidence for"),
        rows,
        tuple(None for _ in rows),
        "Lines are the file's lines as an editor numbers them (the header is line 1); a row of "
        "a Parquet file or a glob is its data row, 1-based, header not counted.",
    )
    views = [path, evidence]
    if trace.rejected:
        rejected = tuple(
            (f"{r.file}:{r.line}", r.column, r.value, r.reason) for r in trace.rejected
        )
        views.append(
            TableView(
                f"Rejected rows ({len(rejected)})",
                ("File:line", "Column", "Value", "Reason"),
                rejected,
                tuple(None for _ in rejected),
                "Set aside before counting: evidence for no stage (docs/semantics.md).",
            )
        )
    return views


def trace_note(trace: Trace) -> str:
    if trace.in_cohort:
        cohort = "In the report's cohort"
    else:
        reasons = "; ".join(EXCLUSION_WORDS[e] for e in trace.exclusions)
        cohort = f"Not in the report's cohort: {reasons}"
    traits = [f"order: {trace.order}", f"window: {trace.window or 'none'}"]
    if trace.immature:
        traits.append("immature: it may still convert")
    if trace.lost:
        traits.append("lost")
    attributes = ", ".join(f"{k}={v}" for k, v in trace.attributes.items())
    return f"{cohort} ({'; '.join(traits)}). {attributes}".strip()


# funnel drivers --------------------------------------------------------------------------------


def drivers_title(result: Drivers) -> str:
    return (
        f"What goes with reaching {result.stage} from {result.from_stage}: "
        f"{format_count(result.converted)} of {format_count(result.n)} "
        f"({format_percent(result.rate)})"
    )


def drivers_note(result: Drivers) -> str:
    return (
        f"Each group against the rest: odds ratio with its 95% interval, two-proportion z-test "
        f"p, adjusted for {len(result.drivers)} tests (Benjamini–Hochberg); "
        f"{format_count(result.skipped)} groups below {result.min_n} not tested "
        "(docs/drivers.md)."
    )


def drivers_view(result: Drivers, limit: int | None = None) -> TableView:
    header = ("Group", "n", "Rate", "95% CI", "Rest", "Odds ratio", "95% CI", "p", "adj. p")
    rows = []
    marks: list[Mark | None] = []
    for d in result.drivers[:limit]:
        rows.append(
            (
                f"{d.attribute}={d.value}",
                format_count(d.n),
                format_percent(d.rate),
                f"{format_percent(d.rate_low)}–{format_percent(d.rate_high)}",
                format_percent(d.rest_rate),
                format_number(d.odds_ratio, 2) + ("†" if d.corrected else ""),
                f"{format_number(d.odds_ratio_low, 2)}–{format_number(d.odds_ratio_high, 2)}",
                format_p_value(d.p_value),
                format_p_value(d.p_adjusted),
            )
        )
        marks.append(Mark.significant if d.p_adjusted < 0.05 else None)
    note = drivers_note(result)
    if any(d.corrected for d in result.drivers):
        note += " † a zero cell: 0.5 added to each."
    return TableView(drivers_title(result), header, tuple(rows), tuple(marks), note)


def drivers_markdown(result: Drivers) -> str:
    view = drivers_view(result)
    lines = [f"# {escape(view.title)}", "", escape(view.note), "", *table(view), ""]
    return "\n".join(lines)
