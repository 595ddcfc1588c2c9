"""The closed choices of a funnel definition, as plain enums.

Kept apart from the pydantic models so that start-up code (metrics/periods.py, imported by the
CLI) can use them without importing pydantic or yaml.
"""

from __future__ import annotations

from enum import StrEnum


class Shape(StrEnum):
    wide = "wide"  # one row per id, one column per stage time
    long = "long"  # one row per stage change: id, stage value, time
    snapshot = "snapshot"  # one row per id with its current stage only
    lookup = "lookup"  # attributes keyed by a column of the funnel's rows (docs/real-data.md)


class Order(StrEnum):
    backfill = "backfill"
    strict = "strict"
    sequence = "sequence"  # strict, and no other row of the key between consecutive stages
    any = "any"  # stages in any order within the window of an anchor; rows = stages done


class Attempts(StrEnum):
    """Which of a key's entries count (docs/semantics.md, Attempts)."""

    first = "first"  # the earliest entry evidence only
    best = "best"  # the furthest-reaching attempt, each anchored at one entry time (PostHog)
    each = "each"  # every attempt after the previous one ended counts (a chain of anchors)


class Evidence(StrEnum):
    """Whether one row may be evidence for several stages (docs/semantics.md, Evidence)."""

    shared = "shared"  # a row is evidence for every stage it matches (ClickHouse's default)
    once = "once"  # a row fills at most one stage (PostHog; ClickHouse strict_once)


class Scope(StrEnum):
    """What an `exclude:` item removes (docs/semantics.md, Exclusions)."""

    onward = "onward"  # the id does not count from the item's to-stage on
    funnel = "funnel"  # the id leaves the funnel (every stage), as PostHog's exclusion steps


class Grain(StrEnum):
    lead = "lead"
    account = "account"


class WeekStart(StrEnum):
    """The first day of a summary/cohort week (`week_start:`); monday gives ISO weeks."""

    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"


class Attribution(StrEnum):
    """Which row's value a breakdown takes (`attribution:`; docs/semantics.md, Breakdowns)."""

    entry = "entry"  # the value as of entry (the default)
    first_known = "first_known"  # the first non-empty value of the key's evidence rows
    last = "last"  # the value on the row that gave the last reached stage
    stage = "stage"  # `stage:NAME`: the value on the row that gave stage NAME


def done_label(k: int) -> str:
    """Row k of an `order: any` funnel: the keys that did at least k of its stages."""
    return f"{k} stage" if k == 1 else f"{k} stages"


def parse_attribution(text: object) -> tuple[Attribution, str | None]:
    """`entry`, `first_known`, `last` or `stage:NAME` as (kind, NAME or None); a ValueError
    naming the choices otherwise (NAME is checked against the stages by spec/checks.py)."""
    raw = text.strip() if isinstance(text, str) else ""
    kind, colon, name = raw.partition(":")
    if colon and kind.strip() == Attribution.stage.value and name.strip():
        return Attribution.stage, name.strip()
    if not colon and raw in Attribution.__members__ and raw != Attribution.stage.value:
        return Attribution(raw), None
    raise ValueError(
        f"expected entry, first_known, last or stage:NAME (a stage's name), got {text!r}"
    )


def attribution_text(value: object) -> str:
    """`attribution:` as written, checked and trimmed (`stage: paid` → `stage:paid`)."""
    kind, name = parse_attribution(value)
    return f"{kind.value}:{name}" if name is not None else kind.value
