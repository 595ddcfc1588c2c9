"""The one place that names the report query's columns and reads its rows back as typed values.

The compiled query is an interface between SQL and Python: `compile/` writes each column under
a name from here, and `ResultColumns.parse` turns DuckDB's rows into `GroupRow`s, a
`QualityRow` and the checks, which metrics, sales, ROI and renewals consume. Which grouping
set a row belongs to is stated by the query (`GROUPING()` of the group columns), not inferred
from which group columns are NULL.

`Layer` names the columns of the query's inner layers (per source, per key, per stage), which the
renewal query also reads from the `scored` layer. The typed rows are in rows.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from funnelcli.compile.rows import GroupRow, QualityRow, QueryResult, StageAggregate, TimeAggregate

NONE_GROUP = "(none)"  # the group of ids whose attribute is missing
OTHER_GROUP = "(other)"  # --top N: the values outside an attribute's N biggest
QUANTILES = (0.5, 0.9)  # the time-to-stage quantiles reported (p50, p90)
PERIOD = "entry_period"  # the per-key column (and group dimension) of ReportQuery.periods


class Layer:
    """Names of the inner layers (CTEs) and their columns: `agg_<i>` per source, then per key
    (`ids`, `ev`, `q_<k>` per stage, `per_id`, `scored`) and the one-row `quality`."""

    IDS = "ids"
    ENTERED = "ev"
    PER_ID = "per_id"
    SCORED = "scored"
    QUALITY = "quality"

    KEY = "key"
    ROWS = "rows"
    LATEST = "latest"
    LOST = "lost_u"
    ENTRY = "entry_at"
    AS_OF = "as_of"
    IMMATURE = "immature"
    IN_PERIOD = "in_period"
    KEPT = "kept"

    @staticmethod
    def source(i: int) -> str:
        """The layer-1 CTE of the i-th funnel source."""
        return f"agg_{i}"

    @staticmethod
    def stage(k: int) -> str:
        """The layer-3 CTE that qualifies stage k."""
        return f"q_{k}"

    @staticmethod
    def rows(i: int) -> str:
        return f"rows_{i}"

    @staticmethod
    def latest(i: int) -> str:
        return f"latest_{i}"

    @staticmethod
    def attribute(i: int) -> str:
        """The i-th attribute (breakdown or filter column) as of entry."""
        return f"a_{i}"

    @staticmethod
    def first_known(alias: str) -> str:
        """attribution: first_known: an attribute's first non-empty value (layer 1)."""
        return f"{alias}_first"

    @staticmethod
    def stage_attribute(k: int, alias: str) -> str:
        """An attribute on the row of stage k's earliest evidence (layer 1; `x` of a list's
        items), or, prefixed `q`, on the row that gave qt_k (layer 3): attribution."""
        return f"x{k}_{alias}"

    @staticmethod
    def attributed(alias: str) -> str:
        """An attribute as `attribution:` credits it (per_id): what breakdowns group on."""
        return f"{alias}_by"

    @staticmethod
    def folded(alias: str) -> str:
        """An attribute with the values outside its --top N folded into OTHER_GROUP."""
        return f"{alias}_top"

    @staticmethod
    def first_time(k: int) -> str:
        """Stage k's earliest evidence time (layer 1)."""
        return f"m_{k}"

    @staticmethod
    def times(k: int) -> str:
        """Stage k's sorted evidence times (strict order on a long source; evidence: once)."""
        return f"l_{k}"

    @staticmethod
    def untimed(k: int) -> str:
        """Whether any row is stage-k evidence (a stage without a time)."""
        return f"u_{k}"

    @staticmethod
    def value(k: int) -> str:
        return f"v_{k}"

    @staticmethod
    def qualified_time(k: int) -> str:
        """Stage k's earliest qualifying time (window, within:, order applied)."""
        return f"qt_{k}"

    @staticmethod
    def qualified_value(k: int) -> str:
        return f"qv_{k}"

    @staticmethod
    def qualified_item(k: int) -> str:
        """The label (stage value) of the item that gave qt_k (evidence: once)."""
        return f"qs_{k}"

    @staticmethod
    def qualified(k: int) -> str:
        """Explicit evidence for stage k qualified."""
        return f"qr_{k}"

    @staticmethod
    def reached(k: int) -> str:
        """The key counts at stage k (order policy applied)."""
        return f"r_{k}"

    @staticmethod
    def backwards(k: int) -> str:
        return f"bw_{k}"


@dataclass(frozen=True)
class Grouping:
    """One grouping set: its attributes, and whether it is also split by entry period."""

    attributes: tuple[str, ...]
    by_period: bool = False


@dataclass(frozen=True)
class ResultColumns:
    """Every output column of a compiled report query, and how to read its rows."""

    stage_count: int
    sources: tuple[str, ...]
    aliases: Mapping[str, str]  # attribute → its per-key column (Layer.attribute)
    groupings: tuple[Grouping, ...]  # the grouping sets after the cohort's ()
    duplicate_sources: frozenset[int]  # source indexes whose duplicate ids are counted
    known_values: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()  # sources whose one-row-per-key check is in the query
    folded: frozenset[str] = frozenset()  # --top N: attributes grouped on their folded column
    exclusions: int = 0  # `exclude:` items, each with its excluded_<i> count
    per_attempt: bool = False  # attempts: each: rows are attempts; s<k>_ids counts keys

    GROUPING_ID = "grouping_id"
    ENTERED = "entered"
    IMMATURE_IDS = "immature_ids"
    BACKWARDS_IDS = "backwards_ids"
    FIRST_ENTRY = "first_entry"
    LAST_ENTRY = "last_entry"
    LOST = "lost_count"
    CYCLE_N = "cycle_n"
    CYCLE_P50 = "cycle_p50"
    IDS_WITHOUT_ENTRY_TIME = "ids_without_entry_time"
    IDS_OUTSIDE_PERIOD = "ids_outside_period"
    IDS_FILTERED_OUT = "ids_filtered_out"
    AS_OF = "as_of"

    # --- names -----------------------------------------------------------------------------

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The group columns' dimensions in GROUPING() argument order (attributes, then the
        entry period when any grouping is split by it)."""
        names = list(dict.fromkeys(a for g in self.groupings for a in g.attributes))
        if any(g.by_period for g in self.groupings):
            names.append(PERIOD)
        return tuple(names)

    def group(self, dimension: str) -> str:
        """The output column holding a dimension's group value."""
        alias = PERIOD if dimension == PERIOD else self.aliases[dimension]
        return f"g_{alias}"

    def per_key(self, dimension: str) -> str:
        """The per-key column a dimension is grouped on (its folded one under --top N)."""
        if dimension == PERIOD:
            return PERIOD
        alias = self.aliases[dimension]
        return Layer.folded(alias) if dimension in self.folded else alias

    @staticmethod
    def count(k: int) -> str:
        return f"s{k}_count"

    @staticmethod
    def ids(k: int) -> str:
        return f"s{k}_ids"

    @staticmethod
    def value_sum(k: int) -> str:
        return f"s{k}_value"

    @staticmethod
    def value_n(k: int) -> str:
        return f"s{k}_value_n"

    @staticmethod
    def value_median(k: int) -> str:
        return f"s{k}_value_median"

    @staticmethod
    def stage_backwards(k: int) -> str:
        return f"s{k}_backwards"

    @staticmethod
    def time_n(k: int, since: str) -> str:
        """Ids with both times; `since` is "prev" (the previous stage) or "entry"."""
        return f"s{k}_{since}_n"

    @staticmethod
    def time_mean(k: int, since: str) -> str:
        return f"s{k}_{since}_mean"

    @staticmethod
    def time_quantiles(k: int, since: str) -> str:
        """The list of QUANTILES from one aggregate, split by the outer select."""
        return f"s{k}_{since}_q"

    @staticmethod
    def time_quantile(k: int, since: str, fraction: float) -> str:
        return f"s{k}_{since}_p{round(fraction * 100)}"

    @staticmethod
    def rows_read(i: int) -> str:
        return f"rows_read_{i}"

    @staticmethod
    def rows_without_id(i: int) -> str:
        return f"rows_without_id_{i}"

    @staticmethod
    def duplicate_ids(i: int) -> str:
        return f"duplicate_ids_{i}"

    def values(self, attribute: str) -> str:
        """Every value of an attribute over all keys read (ReportQuery.known_values)."""
        return f"values_{self.aliases[attribute]}"

    def check(self, source: str) -> str:
        """Whether a source read per row on trust has one row per key."""
        return f"distinct_{self.sources.index(source)}"

    def grouped_on(self, grouping: Grouping | None) -> tuple[str, ...]:
        """The dimensions a grouping set groups on (None: the cohort's ()), in `dimensions`
        order."""
        if grouping is None:
            return ()
        wanted = {*grouping.attributes, *((PERIOD,) if grouping.by_period else ())}
        return tuple(d for d in self.dimensions if d in wanted)

    def grouping_id(self, grouping: Grouping | None) -> int:
        """GROUPING() of the group columns for a grouping set: bit i from the right is set
        when the i-th last dimension is not grouped on."""
        grouped = self.grouped_on(grouping)
        dimensions = self.dimensions
        bits = 0
        for position, dimension in enumerate(dimensions):
            if dimension not in grouped:
                bits |= 1 << (len(dimensions) - 1 - position)
        return bits

    @staticmethod
    def split_quantiles(name: str) -> list[tuple[int, str]] | None:
        """For a column holding the list of QUANTILES (time_quantiles), each quantile's
        1-based list index and output column (time_quantile); None for any other column."""
        if not name.endswith("_q"):
            return None
        return [(i, f"{name[:-2]}_p{round(f * 100)}") for i, f in enumerate(QUANTILES, start=1)]

    # --- rows ------------------------------------------------------------------------------

    def checks_hold(self, rows: Sequence[Mapping[str, Any]]) -> bool:
        """Whether a result stands: every source read per row on trust has one row per key."""
        return bool(rows) and all(row[self.check(s)] is True for row in rows for s in self.checks)

    def parse(self, rows: Sequence[Mapping[str, Any]]) -> QueryResult:
        """DuckDB's rows (dicts by column name) as typed values."""
        by_id = {self.grouping_id(g): g for g in self.groupings}
        groups = []
        for row in rows:
            grouping = by_id.get(int(row[self.GROUPING_ID])) if self.dimensions else None
            groups.append(self._group(row, grouping))
        quality = self._quality(rows[0] if rows else {})
        return QueryResult(groups=tuple(groups), quality=quality, stage_count=self.stage_count)

    def _group(self, row: Mapping[str, Any], grouping: Grouping | None) -> GroupRow:
        period = None
        if grouping is not None and grouping.by_period:
            period = int(row[self.group(PERIOD)])
        key = {a: str(row[self.group(a)]) for a in grouping.attributes} if grouping else {}
        return self.group_of(row, period, self.stage_count, key)

    @classmethod
    def group_of(
        cls,
        row: Mapping[str, Any],
        period: int | None,
        stage_count: int,
        key: Mapping[str, str] | None = None,
    ) -> GroupRow:
        """A GroupRow from one result row (an empty row: every number 0 or null)."""
        key = key or {}
        stages = tuple(cls._stage(row, k) for k in range(1, stage_count + 1))
        return GroupRow(
            dimensions=tuple(key),
            key=key,
            period=period,
            entered=_int(row.get(cls.ENTERED)),
            immature_ids=_int(row.get(cls.IMMATURE_IDS)),
            backwards_ids=_int(row.get(cls.BACKWARDS_IDS)),
            first_entry=row.get(cls.FIRST_ENTRY),
            last_entry=row.get(cls.LAST_ENTRY),
            stages=stages,
            lost=_int(row.get(cls.LOST)),
            cycle_n=_int(row.get(cls.CYCLE_N)),
            cycle_p50_days=_float(row.get(cls.CYCLE_P50)),
        )

    @classmethod
    def _stage(cls, row: Mapping[str, Any], k: int) -> StageAggregate:
        def times(since: str) -> TimeAggregate:
            if k == 1:
                return TimeAggregate(n=0, p50=None, p90=None)
            return TimeAggregate(
                n=_int(row.get(cls.time_n(k, since))),
                mean=_float(row.get(cls.time_mean(k, since))),
                p50=_float(row.get(cls.time_quantile(k, since, QUANTILES[0]))),
                p90=_float(row.get(cls.time_quantile(k, since, QUANTILES[1]))),
            )

        return StageAggregate(
            count=_int(row.get(cls.count(k))),
            ids=None if row.get(cls.ids(k)) is None else _int(row[cls.ids(k)]),
            value_sum=_decimal(row.get(cls.value_sum(k))),
            value_n=_int(row.get(cls.value_n(k))),
            value_median=_float(row.get(cls.value_median(k))),
            backwards=_int(row.get(cls.stage_backwards(k))) if k > 1 else 0,
            from_previous=times("prev"),
            from_entry=times("entry"),
        )

    def _quality(self, row: Mapping[str, Any]) -> QualityRow:
        sources = enumerate(self.sources)
        return QualityRow(
            rows_read={s: _int(row.get(self.rows_read(i))) for i, s in enumerate(self.sources)},
            rows_without_id={s: _int(row.get(self.rows_without_id(i))) for i, s in sources},
            duplicate_ids={
                s: _int(row.get(self.duplicate_ids(i)))
                for i, s in enumerate(self.sources)
                if i in self.duplicate_sources
            },
            ids_without_entry_time=_int(row.get(self.IDS_WITHOUT_ENTRY_TIME)),
            ids_outside_period=_int(row.get(self.IDS_OUTSIDE_PERIOD)),
            ids_filtered_out=_int(row.get(self.IDS_FILTERED_OUT)),
            as_of=row.get(self.AS_OF),
            excluded=tuple(_int(row.get(f"excluded_{i}")) for i in range(self.exclusions)),
            known_values={
                a: tuple(str(v) for v in row.get(self.values(a)) or ()) for a in self.known_values
            },
        )


def _int(value: Any) -> int:
    return int(value or 0)


def _float(value: Any) -> float | None:
    """A number as a finite float (DECIMAL sums included); None for NULL, NaN or ±inf."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _decimal(value: Any) -> Decimal | None:
    """An exact sum as Decimal (a float, when the engine gave one, by its shortest text)."""
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))
