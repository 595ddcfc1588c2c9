"""The report as frozen, JSON-ready values: what every renderer reads, nothing computes here."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

REPORT_SCHEMA = "funnelcli.report/1"
NONE_GROUP = "(none)"


@dataclass(frozen=True)
class TimeStats:
    """Distribution of a time between two stages, in days, over ids that have both times."""

    n: int
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class StageRow:
    """The numbers of one stage, for the whole cohort or one group (DESIGN.md §3.6)."""

    name: str
    label: str
    count: int
    conversion_from_previous: float | None  # count_k / count_{k-1}; null on the first stage or /0
    conversion_from_entry: float | None  # count_k / count_1; null when nobody entered
    dropped: int | None  # count_{k-1} - count_k; null on the first stage
    time_from_previous: TimeStats
    time_from_entry: TimeStats
    value_sum: float | None  # null when the stage declares no value:
    value_n: int | None = None  # ids reaching the stage with a (parsed) value; null: no value:
    value_avg: float | None = None  # value_sum / value_n; null when no value: or value_n = 0
    value_median: float | None = None  # median value over those ids (interpolated)


@dataclass(frozen=True)
class SalesMetrics:
    """Win rates, cycle length and velocity of one group (exact definitions: docs/sales.md)."""

    won_stage: str  # the stage that counts as won
    won: int
    lost: int | None  # null when the YAML declares no `lost:`
    open: int  # entered - won - lost
    win_rate_closed: float | None  # won / (won + lost); null without lost: or when 0/0
    win_rate_open: float | None  # won / entered
    cycle_n: int  # won ids with both an entry time and a win time
    cycle_median_days: float | None  # median days entry → win
    average_deal_value: float | None  # mean win-stage value over won ids that have one
    sales_velocity: float | None  # open × average deal × win rate ÷ cycle days (value per day)


@dataclass(frozen=True)
class GroupResult:
    """One funnel: the whole cohort (key {}) or one breakdown group."""

    key: dict[str, str]
    entered: int
    below_min_n: bool
    immature_ids: int
    stages: tuple[StageRow, ...]
    sales: SalesMetrics | None = None


@dataclass(frozen=True)
class Breakdown:
    """Groups of the cohort split by one or more attributes as of entry."""

    by: tuple[str, ...]
    groups: tuple[GroupResult, ...]


@dataclass(frozen=True)
class StageInfo:
    name: str
    label: str
    source: str
    has_value: bool


@dataclass(frozen=True)
class FunnelInfo:
    """The parts of the definition a reader needs to interpret the numbers."""

    name: str
    title: str
    file: str
    grain: str
    order: str
    window: str | None
    stages: tuple[StageInfo, ...]
    filter: str | None = None
    currency: str | None = None  # the YAML's currency: (e.g. CNY), for every money number


@dataclass(frozen=True)
class Period:
    """The entry cohort: ids whose entry time is in [since, until); later stages at any time."""

    since: str | None
    until: str | None
    as_of: str | None  # the anchor for maturity: --as-of, else the latest time in the data
    first_entry: str | None
    last_entry: str | None
    immature: bool  # some ids entered less than `window` before as_of and may still convert


@dataclass(frozen=True)
class UnmatchedValue:
    """A funnel value of a lookup's `join:` column that matches no key of the lookup."""

    value: str
    rows: int
    ids: int


@dataclass(frozen=True)
class UnmatchedLookup:
    """The rows of the joined source whose `join:` value (after `map:`) has no lookup row."""

    lookup: str
    join: str
    values: tuple[UnmatchedValue, ...]


@dataclass(frozen=True)
class DataQuality:
    """What the numbers rest on: rows read, what was set aside and why, suspicious ids."""

    rows_read: dict[str, int]
    rows_without_id: dict[str, int]
    ids_without_entry_time: int  # implied entry with no time at all: excluded by --since/--until
    ids_outside_period: int  # entered before --since or at/after --until
    ids_filtered_out: int  # removed by filter:
    backwards_ids: int  # ids with a stage time earlier than an earlier stage's time
    backwards_by_stage: dict[str, int]  # stage → ids whose time there precedes an earlier stage
    immature_ids: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    # "source.column" → non-empty amounts that money.py cannot read (left out of value sums)
    unparseable_amounts: dict[str, int] = field(default_factory=dict)
    rows_rejected: dict[str, int] = field(default_factory=dict)  # rows set aside (any reject)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)  # reason → values rejected
    duplicate_ids: dict[str, int] = field(default_factory=dict)  # wide source → ids on >1 row
    unmatched_lookups: tuple[UnmatchedLookup, ...] = ()


@dataclass(frozen=True)
class FunnelReport:
    """Everything `funnel report` says, in the shape of the JSON schema funnelcli.report/1."""

    funnel: FunnelInfo
    period: Period
    overall: GroupResult
    breakdowns: tuple[Breakdown, ...]
    data_quality: DataQuality
    min_n: int
    version: str
    schema: str = REPORT_SCHEMA

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (lists, not tuples; NaN/±inf as None), with `schema` first."""
        data = _plain(asdict(self))
        return {"schema": data.pop("schema"), **data}


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no non-finite numbers
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
