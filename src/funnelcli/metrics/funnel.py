"""The query's per-group aggregates → rates, drop-offs and the report's rows (DESIGN.md §3.6).

Pure: typed rows (compile/columns.py) in, GroupResults out; no SQL, no I/O. Plain Python: a
result is a few dozen rows, and importing polars for them cost every run 0.12 s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from funnelcli.compile.rows import (
    GroupRow,
    QueryResult,
    StageAggregate,
    TimeAggregate,
    empty_group,
)
from funnelcli.outputs.report import Breakdown, GroupResult, SalesMetrics, StageRow, TimeStats
from funnelcli.spec import StageSpec

Sales = Callable[[GroupRow], SalesMetrics]


def split_groups(
    result: QueryResult,
    breakdowns: Sequence[tuple[str, ...]],
    stages: Sequence[StageSpec],
    min_n: int,
    sales: Sales | None = None,
) -> tuple[GroupResult, tuple[Breakdown, ...]]:
    """The cohort's row as the overall funnel, and each breakdown's groups, biggest first."""
    overall = group_result(result.total, stages, min_n, sales)
    found = tuple(
        Breakdown(by=by, groups=biggest_first(result.grouped(by), stages, min_n, sales))
        for by in breakdowns
    )
    return overall, found


def biggest_first(
    rows: Iterable[GroupRow], stages: Sequence[StageSpec], min_n: int, sales: Sales | None = None
) -> tuple[GroupResult, ...]:
    """The groups somebody entered, by entries (most first), then by key."""
    groups = [group_result(row, stages, min_n, sales) for row in rows]
    groups = [g for g in groups if g.entered > 0]
    groups.sort(key=lambda g: (-g.entered, tuple(g.key.values())))
    return tuple(groups)


def group_result(
    row: GroupRow, stages: Sequence[StageSpec], min_n: int, sales: Sales | None = None
) -> GroupResult:
    """One funnel (the cohort or a group): each stage's count, rates, drop-off and times."""
    first = row.stages[0].count if row.stages else 0
    rows = []
    previous: int | None = None
    for stage, aggregate in zip(stages, row.stages, strict=True):
        rows.append(_stage_row(stage, aggregate, first, previous))
        previous = aggregate.count
    return GroupResult(
        key=dict(row.key),
        entered=row.entered,
        below_min_n=row.entered < min_n,
        immature_ids=row.immature_ids,
        stages=tuple(rows),
        sales=sales(row) if sales is not None else None,
    )


def nobody(
    stages: Sequence[StageSpec], min_n: int, key: Mapping[str, str] | None = None
) -> GroupResult:
    """A funnel nobody entered: counts 0, rates and times null (a period or group without
    entries)."""
    return group_result(empty_group(len(stages), key), stages, min_n)


def _stage_row(
    stage: StageSpec, aggregate: StageAggregate, first: int, previous: int | None
) -> StageRow:
    """conversion_from_previous = count_k / count_{k-1} (null on the first stage and /0),
    conversion_from_entry = count_k / count_1, dropped = count_{k-1} − count_k."""
    count = aggregate.count
    has_value = stage.value is not None
    return StageRow(
        name=stage.name,
        label=stage.title,
        count=count,
        conversion_from_previous=None if previous is None else ratio(count, previous),
        conversion_from_entry=ratio(count, first),
        dropped=None if previous is None else previous - count,
        time_from_previous=_time_stats(aggregate.from_previous),
        time_from_entry=_time_stats(aggregate.from_entry),
        value_sum=float(aggregate.value_sum or 0) if has_value else None,
        value_n=aggregate.value_n if has_value else None,
        value_avg=aggregate.value_avg if has_value else None,
        value_median=aggregate.value_median if has_value else None,
        ids=aggregate.ids,
    )


def _time_stats(aggregate: TimeAggregate) -> TimeStats:
    return TimeStats(
        n=aggregate.n, median_days=aggregate.p50, p90_days=aggregate.p90, mean_days=aggregate.mean
    )


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator; None when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else None
