"""Words for values the library returns as codes and numbers (data-quality findings, …).

Every renderer (terminal, Markdown, the JSON's report/1 `notes`) says a finding the same way.
"""

from __future__ import annotations

from funnelcli.outputs.report import DataQuality, Finding, UnmatchedLookup

IMMATURE_MARK = "~"  # how a cohort cell that may still grow is marked


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
