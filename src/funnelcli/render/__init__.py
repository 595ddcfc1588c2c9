"""Renderers of a FunnelReport: one module per output format, plus the wording they share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum

from funnelcli.outputs.report import FunnelReport, GroupResult, Period

NULL_TEXT = "—"


class Format(StrEnum):
    """The output formats of `funnel report --format`."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def render_text(report: FunnelReport, fmt: Format, *, width: int = 100) -> str:
    """The whole output of `report` in `fmt` as text; `table` is the Rich view without colour."""
    # Renderers are imported here so that `funnel --help` never pays for rich.
    if fmt == Format.table:
        from funnelcli.render.terminal import report_plain_text

        return report_plain_text(report, width=width)
    if fmt == Format.json:
        from funnelcli.render.json_out import report_json

        return report_json(report)
    if fmt == Format.csv:
        from funnelcli.render.csv_out import report_csv

        return report_csv(report)
    if fmt == Format.markdown:
        from funnelcli.render.markdown import report_markdown

        return report_markdown(report)
    raise ValueError(f"unknown format {fmt!r}")


# Wording shared by the human-readable renderers (terminal and markdown), so they say the same.


def is_number(value: float | None) -> bool:
    """True for a finite number; None, NaN and infinities are shown as missing."""
    return value is not None and math.isfinite(value)


def format_percent(rate: float | None) -> str:
    """A rate as a percentage with one decimal, e.g. 0.42 → "42.0%"; null → "—"."""
    return f"{rate * 100:.1f}%" if rate is not None and is_number(rate) else NULL_TEXT


def format_count(count: int | None) -> str:
    """A count with thousands separators; null → "—"."""
    return f"{count:,}" if count is not None else NULL_TEXT


def format_money(amount: float | None) -> str:
    """Money with thousands separators and two decimals, e.g. "12,345.50"; null → "—"."""
    return f"{amount:,.2f}" if amount is not None and is_number(amount) else NULL_TEXT


def group_name(group: GroupResult) -> str:
    """A breakdown group as its key values joined with " / ", e.g. "ads / SMB"."""
    return " / ".join(group.key.values())


def breakdown_name(by: tuple[str, ...]) -> str:
    """A breakdown as its attributes joined with "+", e.g. "channel+segment"."""
    return "+".join(by)


def plural(count: int, noun: str) -> str:
    """`count` and `noun`, with an "s" unless the count is one: "1 id", "3 leads"."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


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


class SummaryFormat(StrEnum):
    """The output formats of `funnel summary --format` (html is for e-mail delivery)."""

    table = "table"
    markdown = "markdown"
    html = "html"
    json = "json"
