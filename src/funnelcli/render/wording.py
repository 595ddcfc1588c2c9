"""Words and number formats every renderer shares, so the terminal, Markdown and HTML say the
same: one plural, one percent, count and money format each, the sentences about periods and
cohorts, and the wording of what the library returns as codes (findings, verdicts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from funnelcli.outputs.report import (
        DataQuality,
        Finding,
        FunnelReport,
        Histogram,
        Period,
        UnmatchedLookup,
    )
    from funnelcli.outputs.summary import AlertResult, Change, Interval, PeriodSummary, Summary

NULL_TEXT = "—"  # how a missing (null or non-finite) number is shown
MINUS = "−"  # a true minus sign, as in print
IMMATURE_MARK = "~"  # how a cohort cell that may still grow is marked

# Numbers ---------------------------------------------------------------------------------------

# order: any (funnel.rows): row k counts the ids that did at least k stages, in any order
STAGES_DONE = "rows: ids that did at least N of the stages, in any order"


def is_number(value: float | None) -> bool:
    """True for a finite number; None, NaN and infinities are shown as missing."""
    return value is not None and math.isfinite(value)


def format_count(count: int | None) -> str:
    """A count with thousands separators; null → "—"."""
    return f"{count:,}" if count is not None else NULL_TEXT


def format_percent(rate: float | None) -> str:
    """A rate as a percentage with one decimal, e.g. 0.42 → "42.0%"; null → "—"."""
    return f"{rate * 100:.1f}%" if rate is not None and is_number(rate) else NULL_TEXT


def format_number(value: float | None, decimals: int) -> str:
    """A number with thousands separators and `decimals` decimals; null → "—"."""
    return f"{value:,.{decimals}f}" if value is not None and is_number(value) else NULL_TEXT


def format_amount(amount: float | None) -> str:
    """Money to the cent, with thousands separators, e.g. "12,345.50"; null → "—"."""
    return format_number(amount, 2)


def format_whole_amount(amount: float | None) -> str:
    """Money rounded to whole units, with thousands separators, e.g. "12,346"; null → "—"."""
    return format_number(amount, 0)


def format_ratio(value: float | None, suffix: str = "") -> str:
    """A ratio with one decimal and separators, e.g. "15.2x" with suffix "x"; null → "—"."""
    return format_number(value, 1) + (suffix if is_number(value) else "")


def format_roi(value: float | None) -> str:
    """ROI as a whole percentage with separators (12.867 → "1,287%"); null → "—"."""
    if value is None or not is_number(value):
        return NULL_TEXT
    return format_number(value * 100, 0) + "%"


def format_duration(days: float | None) -> str:
    """A time in days as "3.5d", or in hours when under a day ("18.0h"); null → "—"."""
    if days is None or not is_number(days):
        return NULL_TEXT
    return f"{days:.1f}d" if abs(days) >= 1 else f"{days * 24:.1f}h"


def format_days(days: float | None, unit: str = "") -> str:
    """Days with one decimal and no separators, e.g. "3.5" (or "3.5d" with unit "d")."""
    return f"{days:.1f}{unit}" if days is not None and is_number(days) else NULL_TEXT


def format_size(count: int) -> str:
    """Bytes in B, KiB, MiB or GiB, e.g. "68.3 KiB"."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def signed(value: float, text: str) -> str:
    """`text` with a + or − sign from `value` (a true minus sign, as in print)."""
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"{MINUS}{text}"
    return f"±{text}"


def count_delta(change: Change) -> str:
    """e.g. "−5 (−31.2%)"; the relative part is left out when the previous value is 0."""
    if change.delta is None:
        return NULL_TEXT
    text = signed(change.delta, f"{abs(change.delta):,.0f}")
    if change.relative_delta is not None:
        text += f" ({signed(change.relative_delta, f'{abs(change.relative_delta) * 100:.1f}%')})"
    return text


def points(delta: float | None, unit: str = " pts") -> str:
    """A difference of two rates in percentage points, e.g. "+2.1 pts"."""
    return NULL_TEXT if delta is None else signed(delta, f"{abs(delta) * 100:.1f}{unit}")


def days_delta(change: Change) -> str:
    """A change of days, e.g. "−1.5d"."""
    return NULL_TEXT if change.delta is None else signed(change.delta, f"{abs(change.delta):.1f}d")


def format_interval(value: Interval | None) -> str:
    """A confidence interval of a rate, e.g. "38.1–46.0%"."""
    return NULL_TEXT if value is None else f"{value.low * 100:.1f}–{value.high * 100:.1f}%"


def format_p_value(value: float | None) -> str:
    """A p-value with three decimals, "<0.001" below that."""
    if value is None:
        return NULL_TEXT
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def verdict_text(change: Change, min_n: int) -> str:
    """What a rate change's test means (Change.verdict): significant, not significant, too few
    in a period, or provisional."""
    words = {
        None: NULL_TEXT,
        "provisional": "provisional",
        "too_few": f"n < {min_n}",
        "significant": "significant",
        "not_significant": "not significant",
    }
    return words[change.verdict]


# Words -----------------------------------------------------------------------------------------


def p_below() -> str:
    """The significance rule's test in words, e.g. "p < 0.05" (from the summary's level)."""
    from funnelcli.outputs.summary import SIGNIFICANCE_LEVEL

    return f"p < {SIGNIFICANCE_LEVEL:g}"


def plural(count: int, noun: str) -> str:
    """`count` with thousands separators and `noun` for that count: "1 id", "1,250 leads"."""
    return f"{count:,} {nouns(count, noun)}"


def attempts_label(label: str) -> str:
    """A data-quality label under attempts: each, whose cohort counts attempts, not ids."""
    return label.replace("Ids", "Attempts").replace("ids", "attempts")


def nouns(count: int, noun: str) -> str:
    """`noun` with an "s" unless the count is one ("row", "rows"): the one plural rule."""
    return noun if count == 1 else f"{noun}s"


_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440, "week": 10080}


def histogram_title(histogram: Histogram, previous: str) -> str:
    """ "Time from qualified to paid: 229 ids, bins of 2 weeks"."""
    title = f"Time from {previous} to {histogram.stage}: {plural(histogram.n, 'id')}"
    if histogram.unit is None:
        return title
    return f"{title}, bins of {plural(histogram.width, histogram.unit)}"


def histogram_labels(histogram: Histogram) -> list[str]:
    """Each bin as its range in the histogram's unit: "0–2 weeks", "−1–0 days"."""
    if histogram.unit is None:
        return []
    per_unit = _UNIT_MINUTES[histogram.unit] / 1440

    def number(days: float) -> str:
        value = round(days / per_unit)
        return f"{MINUS}{-value:,}" if value < 0 else f"{value:,}"

    unit = nouns(2, histogram.unit)
    return [f"{number(b.start_days)}–{number(b.end_days)} {unit}" for b in histogram.bins]


def group_name(key: dict[str, str]) -> str:
    """A breakdown group as its key values joined with " / ", e.g. "ads / SMB"."""
    return " / ".join(key.values())


def breakdown_name(by: Sequence[str]) -> str:
    """A breakdown as its attributes joined with "+", e.g. "channel+segment"."""
    return "+".join(by)


def ordered_counts(counts: dict[str, int], order: Sequence[str] = ()) -> list[tuple[str, int]]:
    """`counts` as (name, count) pairs: names in `order` (e.g. the funnel's stages) first."""
    names = [name for name in order if name in counts]
    names += [name for name in counts if name not in names]
    return [(name, counts[name]) for name in names]


def describe_cohort(period: Period, window: str | None) -> str:
    """One sentence saying which ids are counted and when their later stages count."""
    if period.since:
        since = f"since {period.since}"
    else:
        since = "from the first entry" + (f" ({period.first_entry})" if period.first_entry else "")
    if period.until:
        until = f"until {period.until} (exclusive)"
    else:
        until = "to the last entry" + (f" ({period.last_entry})" if period.last_entry else "")
    as_of = f", as of {period.as_of}" if period.as_of else ""
    within = f" within the window ({window})" if window else ""
    return (
        f"Entry cohort: ids entering {since} {until}{as_of}; "
        f"later stages counted whenever they happened{within}."
    )


def describe_immature(report: FunnelReport) -> str:
    """Why an immature period's numbers may still grow."""
    noun = "attempt" if report.funnel.per_attempt else "id"  # attempts: each counts them
    ids = plural(report.data_quality.immature_ids, noun)
    window = report.funnel.window or "the window"
    as_of = report.period.as_of or "the latest time in the data"
    return f"{ids} entered less than {window} before {as_of} and may still convert."


def describe_entries(period: Period) -> str:
    """The entry period of a report as a half-open range, e.g. "entries in [2024-01-01, …)"."""
    since, until = period.since, period.until
    if since is None and until is None:
        return "all entries"
    return f"entries in [{since or '…'}, {until or '…'})"


def finding_text(finding: Finding, quality: DataQuality) -> str:
    """One sentence for a data-quality finding."""
    count = finding.count or 0
    if finding.code == "no_window":
        return "no window declared, so no cohort is flagged immature"
    if finding.code == "empty_source":
        return f"source {finding.subject} has no data rows"
    if finding.code == "all_set_aside":
        return (
            f"every row of source {finding.subject} ({count:,}) was set aside: a time in each "
            "cannot be read (funnel report --rejects FILE lists them)"
        )
    if finding.code == "unparseable_amounts":
        return (
            f"{count} unparseable {nouns(count, 'amount')} in {finding.subject} left out of the "
            "value sums "
            "(funnel validate shows the first; rules: docs/money.md)"
        )
    if finding.code == "unmatched_lookup":
        lookup = next(u for u in quality.unmatched_lookups if u.lookup == finding.subject)
        return unmatched_text(lookup)
    raise ValueError(f"unknown finding {finding.code!r}")


def unmatched_text(lookup: UnmatchedLookup) -> str:
    """Which values of a lookup's join column matched no key, with their rows and ids."""
    shown = ", ".join(f"{v.value!r} ({v.rows:,} rows, {v.ids:,} ids)" for v in lookup.values[:5])
    more = f" and {len(lookup.values) - 5} more" if len(lookup.values) > 5 else ""
    return (
        f"lookup {lookup.lookup}: {len(lookup.values)} {lookup.join} value(s) match no key, "
        f"their rows get (none) for its columns: {shown}{more}"
    )


def rejected_rows_note(source: str, count: int) -> str:
    """The line for rows of a funnel source set aside as unreadable (docs: rejects)."""
    return (
        f"{count} {nouns(count, 'row')} of {source} set aside "
        "(unreadable values; funnel report --rejects lists them)"
    )


# summary ---------------------------------------------------------------------------------------


def period_text(period: PeriodSummary) -> str:
    """e.g. "2026-W01 (2025-12-29 – 2026-01-04)": the label and its inclusive local dates."""
    last = date.fromisoformat(period.end[:10]) - timedelta(days=1)
    return f"{period.label} ({period.start[:10]} – {last.isoformat()})"


def headline(summary: Summary) -> str:
    """e.g. "Weekly summary · Lead to renewal"."""
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


def alert_lines(summary: Summary) -> list[str]:
    """One line per alert met, else one line saying none were (nothing without --fail-on)."""
    met = summary.alerts_met
    if met:
        return [f"ALERT: {alert.expression} {alert_values(alert)}" for alert in met]
    if summary.alerts:
        return [f"No alert met ({plural(len(summary.alerts), 'condition')} checked)."]
    return []


def maturity_note(summary: Summary) -> str | None:
    """Which stages are compared at equal age (a horizon), and why the others' changes are
    provisional when a compared period is immature."""
    notes = []
    judged: dict[tuple[str, str, str], list[str]] = {}
    for stage in summary.stages:
        if stage.horizon and stage.current_period and stage.previous_period:
            at = (stage.horizon, stage.current_period, stage.previous_period)
            judged.setdefault(at, []).append(stage.label)
    for (horizon, current, previous), labels in judged.items():
        notes.append(
            f"Equal age: {', '.join(labels)} counted within {horizon} of entry, on {current} "
            f"against {previous} (the latest {summary.period}s whose ids are all {horizon} old)."
        )
    young = [p.label for p in (summary.current, summary.previous) if p.immature]
    if young and sum(map(len, judged.values())) < len(summary.stages) - 1:
        window = summary.funnel.window or "the window"
        notes.append(
            f"Immature: ids that entered in {' and '.join(young)} are younger than the {window} "
            f"window at {summary.as_of} and may still convert. Their later-stage numbers are "
            "provisional, so their changes are not called significant; entries are final."
        )
    return " ".join(notes) or None


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
        at = f" in {stage.current_period} (within {stage.horizon})" if stage.horizon else ""
        lines.append(
            f"{stage.label}: step conversion {format_percent(change.current)}{at} "
            f"({points(change.delta)}, p = {format_p_value(change.p_value)}), significant."
        )
    if not changes:
        rates = [s.metrics["conversion_from_previous"] for s in summary.stages[1:]]
        if not any(rate.final for rate in rates):
            why = "later stages are provisional while the periods are immature"
        else:
            why = f"none reaches {p_below()} with n ≥ {summary.min_n} in both periods"
        lines.append(f"No significant change in step conversion: {why}.")
    return lines
