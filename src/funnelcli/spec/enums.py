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


class Attempts(StrEnum):
    """Which of a key's entries count (docs/semantics.md, Attempts)."""

    first = "first"  # the earliest entry evidence only
    best = "best"  # the furthest-reaching attempt, each anchored at one entry time (PostHog)


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
