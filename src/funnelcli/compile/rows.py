"""The report query's rows as typed values (what ResultColumns.parse gives metrics)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class TimeAggregate:
    """Days between two stages over the ids that have both times."""

    n: int
    p50: float | None
    p90: float | None
    mean: float | None = None


@dataclass(frozen=True)
class StageAggregate:
    """One stage's aggregates in one group."""

    count: int
    value_sum: Decimal | None  # exact; None when the stage has no value: (or nobody has one)
    value_n: int  # ids with a value
    value_median: float | None
    backwards: int  # ids whose time here precedes an earlier stage's (0 on the first stage)
    from_previous: TimeAggregate
    from_entry: TimeAggregate
    ids: int | None = None  # attempts: each: keys with a counted attempt here (None otherwise)

    @property
    def value_avg(self) -> float | None:
        """value_sum / value_n, from the exact sum (so it is correctly rounded, whatever order
        DuckDB's threads added the values in); None without values."""
        if self.value_sum is None or not self.value_n:
            return None
        return float(self.value_sum / self.value_n)


@dataclass(frozen=True)
class GroupRow:
    """One grouping set's row: the cohort (no dimension), or one group of a breakdown."""

    dimensions: tuple[str, ...]  # the grouped attributes (without the entry period)
    key: Mapping[str, str]  # attribute → its value in this group
    period: int | None  # the entry period's index, when grouped by it
    entered: int
    immature_ids: int
    backwards_ids: int
    first_entry: datetime | None
    last_entry: datetime | None
    stages: tuple[StageAggregate, ...]
    lost: int  # cohort keys with lost: evidence that did not reach the win stage
    cycle_n: int
    cycle_p50_days: float | None


@dataclass(frozen=True)
class QualityRow:
    """Counts over every key read (not only the cohort), and the maturity anchor."""

    rows_read: Mapping[str, int]
    rows_without_id: Mapping[str, int]
    duplicate_ids: Mapping[str, int]  # wide sources at lead grain only
    ids_without_entry_time: int
    ids_outside_period: int
    ids_filtered_out: int
    as_of: datetime | None
    known_values: Mapping[str, tuple[str, ...]]  # ReportQuery.known_values → every value read
    excluded: tuple[int, ...] = ()  # per `exclude:` item: keys it took out of the report


@dataclass(frozen=True)
class QueryResult:
    """The report query's rows, typed."""

    groups: tuple[GroupRow, ...]
    quality: QualityRow
    stage_count: int

    @property
    def total(self) -> GroupRow:
        """The cohort's row (no dimension, no period); all zero when the query has none."""
        found = next((g for g in self.groups if not g.dimensions and g.period is None), None)
        return found or empty_group(self.stage_count)

    def grouped(self, dimensions: tuple[str, ...], *, by_period: bool = False) -> list[GroupRow]:
        """The rows of one grouping set."""
        return [
            g
            for g in self.groups
            if g.dimensions == dimensions and (g.period is not None) == by_period
        ]


def empty_group(stage_count: int, key: Mapping[str, str] | None = None) -> GroupRow:
    """A group nobody entered: every count 0, every time and value null."""
    none = TimeAggregate(n=0, p50=None, p90=None)
    stage = StageAggregate(
        count=0,
        value_sum=None,
        value_n=0,
        value_median=None,
        backwards=0,
        from_previous=none,
        from_entry=none,
    )
    key = dict(key or {})
    return GroupRow(
        dimensions=tuple(key),
        key=key,
        period=None,
        entered=0,
        immature_ids=0,
        backwards_ids=0,
        first_entry=None,
        last_entry=None,
        stages=(stage,) * stage_count,
        lost=0,
        cycle_n=0,
        cycle_p50_days=None,
    )
