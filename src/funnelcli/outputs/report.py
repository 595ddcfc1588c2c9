"""The report as frozen, JSON-ready values: what every renderer reads, nothing computes here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from funnelcli.outputs.base import Artifact

REPORT_SCHEMA = "funnelcli.report/1"


@dataclass(frozen=True)
class TimeStats:
    """Distribution of a time between two stages, in days, over ids that have both times."""

    n: int
    median_days: float | None
    p90_days: float | None
    mean_days: float | None = None


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
    # attempts: each: count is attempts; ids the keys with a counted attempt here (else absent)
    ids: int | None = None


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
    attribution: str | None = None  # the YAML's attribution: when not entry (absent in JSON)
    attempts: str | None = None  # the YAML's attempts: when not first (absent in JSON)
    evidence: str | None = None  # the YAML's evidence: when not shared (absent in JSON)
    # order: any: "stages_done", row k = keys that did at least k stages (absent otherwise)
    rows: str | None = None

    @property
    def per_attempt(self) -> bool:
        """attempts: each: the counts are attempts, with the keys (ids) beside them."""
        return self.attempts == "each"


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
class Finding:
    """Something a reader of the numbers should know, as a code and numbers (worded in render).

    Codes: `no_window` (no cohort can be flagged immature), `empty_source` (subject: a source
    without data rows), `all_set_aside` (subject: a source whose every row was set aside,
    count: its rows), `unparseable_amounts` (subject: "source.column", count: amounts left out
    of the value sums), `unmatched_lookup` (subject: a lookup, count: its join values matching
    no key; details in DataQuality.unmatched_lookups).
    """

    code: str
    subject: str | None = None
    count: int | None = None


@dataclass(frozen=True)
class Exclusion:
    """An `exclude:` item and the ids it took out (docs/semantics.md, Exclusions): ids the
    report would count without the exclusions whose excluding evidence lies in its bounds."""

    name: str
    between: tuple[str, str]  # from-stage, to-stage
    scope: str  # onward | funnel
    ids: int


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
    findings: tuple[Finding, ...] = ()
    # "source.column" → non-empty amounts that sql/amounts.py cannot read (left out of value sums)
    unparseable_amounts: dict[str, int] = field(default_factory=dict)
    rows_rejected: dict[str, int] = field(default_factory=dict)  # rows set aside (any reject)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)  # reason → values rejected
    duplicate_ids: dict[str, int] = field(default_factory=dict)  # wide source → ids on >1 row
    unmatched_lookups: tuple[UnmatchedLookup, ...] = ()
    excluded: tuple[Exclusion, ...] = ()  # per `exclude:` item (absent from JSON without any)


@dataclass(frozen=True)
class HistogramBin:
    """Keys whose time into the stage is in [start_days, end_days)."""

    start_days: float
    end_days: float
    count: int


@dataclass(frozen=True)
class Histogram:
    """`funnel report --histogram STAGE`: the cohort's times from the previous stage into
    `stage` (whole minutes), in bins of `width` `unit`s (None when no key has both times)."""

    stage: str
    unit: str | None  # minute | hour | day | week
    width: int  # units per bin
    n: int  # keys with both times (the stage's time_from_previous.n)
    bins: tuple[HistogramBin, ...]


@dataclass(frozen=True)
class FunnelReport(Artifact):
    """Everything `funnel report` says, in the shape of the JSON schema funnelcli.report/1."""

    schema: ClassVar[str] = REPORT_SCHEMA
    schema_file: ClassVar[str] = "report-1"

    funnel: FunnelInfo
    period: Period
    overall: GroupResult
    breakdowns: tuple[Breakdown, ...]
    data_quality: DataQuality
    min_n: int
    version: str
    histogram: Histogram | None = None  # only when asked for (--histogram STAGE)

    def to_dict(self) -> dict[str, Any]:
        """The funnelcli.report/1 document. `data_quality.notes` keeps, for readers of report/1,
        the findings as the sentences the terminal shows (worded in render/wording.py)."""
        from funnelcli.render.wording import finding_text

        document = super().to_dict()
        if document["histogram"] is None:  # absent unless asked for
            del document["histogram"]
        if self.funnel.attempts != "each":  # `ids` only beside counts of attempts
            groups = [document["overall"]]
            groups += [g for b in document["breakdowns"] for g in b["groups"]]
            for stage in (s for g in groups for s in g["stages"]):
                del stage["ids"]
        quality = document["data_quality"]
        if not quality["excluded"]:  # only for funnels with exclude:
            del quality["excluded"]
        notes = [finding_text(f, self.data_quality) for f in self.data_quality.findings]
        document["data_quality"] = _after(quality, "immature_ids", "notes", notes)
        return document

    def tidy_columns(self) -> tuple[str, ...]:
        return (*TIDY_COLUMNS, "ids") if self.funnel.per_attempt else TIDY_COLUMNS

    def tidy_rows(self) -> list[dict[str, Any]]:
        """One record per (breakdown, group, stage): the overall funnel (breakdown `overall`),
        then every breakdown's groups; a group's sales metrics repeat on each of its stages."""
        rows = _group_records("overall", "", self.overall)
        for breakdown in self.breakdowns:
            name = "+".join(breakdown.by)
            for group in breakdown.groups:
                rows += _group_records(name, " / ".join(group.key.values()), group)
        if self.funnel.attempts != "each":
            for row in rows:
                del row["ids"]
        return rows


TIDY_COLUMNS = (
    "breakdown",
    "group",
    "stage",
    "label",
    "count",
    "conversion_from_previous",
    "conversion_from_entry",
    "dropped",
    "median_days_from_previous",
    "p90_days_from_previous",
    "median_days_from_entry",
    "p90_days_from_entry",
    "value_sum",
    "entered",
    "below_min_n",
    "value_n",
    "value_avg",
    "value_median",
    # The group's sales metrics (docs/sales.md), repeated on each of its stage rows.
    "won",
    "lost",
    "open",
    "win_rate_closed",
    "win_rate_open",
    "cycle_median_days",
    "average_deal_value",
    "sales_velocity",
    "mean_days_from_previous",
    "mean_days_from_entry",
)


def _group_records(breakdown: str, group: str, result: GroupResult) -> list[dict[str, Any]]:
    sales = result.sales
    return [
        {
            "breakdown": breakdown,
            "group": group,
            "stage": stage.name,
            "label": stage.label,
            "count": stage.count,
            "conversion_from_previous": stage.conversion_from_previous,
            "conversion_from_entry": stage.conversion_from_entry,
            "dropped": stage.dropped,
            "median_days_from_previous": stage.time_from_previous.median_days,
            "p90_days_from_previous": stage.time_from_previous.p90_days,
            "median_days_from_entry": stage.time_from_entry.median_days,
            "p90_days_from_entry": stage.time_from_entry.p90_days,
            "value_sum": stage.value_sum,
            "entered": result.entered,
            "below_min_n": result.below_min_n,
            "value_n": stage.value_n,
            "value_avg": stage.value_avg,
            "value_median": stage.value_median,
            "won": sales.won if sales else None,
            "lost": sales.lost if sales else None,
            "open": sales.open if sales else None,
            "win_rate_closed": sales.win_rate_closed if sales else None,
            "win_rate_open": sales.win_rate_open if sales else None,
            "cycle_median_days": sales.cycle_median_days if sales else None,
            "average_deal_value": sales.average_deal_value if sales else None,
            "sales_velocity": sales.sales_velocity if sales else None,
            "mean_days_from_previous": stage.time_from_previous.mean_days,
            "mean_days_from_entry": stage.time_from_entry.mean_days,
            "ids": stage.ids,
        }
        for stage in result.stages
    ]


def _after(document: dict[str, Any], key: str, new: str, value: Any) -> dict[str, Any]:
    """`document` with `new: value` inserted right after `key` (JSON key order is stable)."""
    out: dict[str, Any] = {}
    for name, item in document.items():
        out[name] = item
        if name == key:
            out[new] = value
    return out
