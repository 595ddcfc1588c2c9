"""Words and number formats every renderer shares, so the terminal, Markdown and HTML say the
same: one plural, one percent, count and money format each, the sentences about periods and
cohorts, and the wording of what the library returns as codes (findings, verdicts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from funnelcli.outputs.report import DataQuality, Finding, FunnelReport, Period, UnmatchedLookup
    from funnelcli.outputs.summary import Change, Interval

NULL_TEXT = "—"  # how a missing (null or non-finite) number is shown
MINUS = "−"  # a true minus sign, as in print
IMMATURE_MARK = "~"  # how a cohort cell that may still grow is marked

# Numbers ---------------------------------------------------------------------------------------


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
    return f"{amount:,.0f}" if amount is not None else NULL_TEXT


def format_ratio(value: float | None, suffix: str = "") -> str:
    """A ratio with one decimal and separators, e.g. "15.2x" with suffix "x"; null → "—"."""
    return f"{value:,.1f}{suffix}" if value is not None else NULL_TEXT


def format_roi(value: float | None) -> str:
    """ROI as a whole percentage with separators (12.867 → "1,287%"); null → "—"."""
    return f"{value * 100:,.0f}%" if value is not None else NULL_TEXT


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


def plural(count: int, noun: str) -> str:
    """`count` and `noun`, with an "s" unless the count is one: "1 id", "3 leads"."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


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
    ids = plural(report.data_quality.immature_ids, "id")
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
    if finding.code == "unparseable_amounts":
        amounts = "amount" if count == 1 else "amounts"
        return (
            f"{count} unparseable {amounts} in {finding.subject} left out of the value sums "
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
    rows = "row" if count == 1 else "rows"
    return (
        f"{count} {rows} of {source} set aside "
        "(unreadable values; funnel report --rejects lists them)"
    )
