"""The query's per-group aggregates → rates, drop-offs and the report's rows. Plain Python:
a result is a few dozen rows, and importing polars for them cost every run 0.12 s."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from funnelcli.compile import CompiledFunnel
from funnelcli.outputs.report import Breakdown, GroupResult, SalesMetrics, StageRow, TimeStats
from funnelcli.spec import StageSpec


def with_rates(row: dict[str, Any], stage_count: int) -> dict[str, Any]:
    """The row plus conversion_from_previous/entry and dropped per stage; None where a
    division is by 0 (or a count is missing)."""
    out = dict(row)
    first = row.get("s1_count")
    for k in range(1, stage_count + 1):
        count = row.get(f"s{k}_count")
        out[f"s{k}_conversion_from_entry"] = _ratio(count, first)
        previous = row.get(f"s{k - 1}_count") if k > 1 else None
        out[f"s{k}_conversion_from_previous"] = None if k == 1 else _ratio(count, previous)
        dropped = None if previous is None or count is None else int(previous - count)
        out[f"s{k}_dropped"] = dropped
    return out


def _ratio(numerator: Any, denominator: Any) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return float(numerator / denominator)


def total_row(rows: Sequence[dict[str, Any]], compiled: CompiledFunnel) -> dict[str, Any]:
    """The grand-total row of the GROUPING SETS result: the one where no group column is set."""
    group_columns = set(compiled.group_columns.values())
    for row in rows:
        if all(row.get(c) is None for c in group_columns):
            return row
    return {}


def split_groups(
    rows: Sequence[dict[str, Any]],
    compiled: CompiledFunnel,
    stages: Sequence[StageSpec],
    min_n: int,
    sales: Callable[[dict[str, Any]], SalesMetrics] | None = None,
) -> tuple[GroupResult, tuple[Breakdown, ...]]:
    """The grand-total row as the overall funnel, and each breakdown's groups, biggest first."""
    group_columns = list(dict.fromkeys(compiled.group_columns.values()))
    rows = [with_rates(row, len(stages)) for row in rows]

    def grouped(row: dict[str, Any]) -> frozenset[str]:
        return frozenset(c for c in group_columns if row.get(c) is not None)

    overall = _group({}, total_row(rows, compiled), stages, min_n, sales)
    breakdowns = []
    for by in compiled.breakdowns:
        columns = [compiled.group_columns[name] for name in by]
        wanted = frozenset(columns)
        groups = [
            _group(
                {name: str(row[col]) for name, col in zip(by, columns, strict=True)},
                row,
                stages,
                min_n,
                sales,
            )
            for row in rows
            if grouped(row) == wanted
        ]
        groups = [g for g in groups if g.entered > 0]
        groups.sort(key=lambda g: (-g.entered, tuple(g.key.values())))
        breakdowns.append(Breakdown(by=tuple(by), groups=tuple(groups)))
    return overall, tuple(breakdowns)


def _group(
    key: dict[str, str],
    row: dict[str, Any],
    stages: Sequence[StageSpec],
    min_n: int,
    sales: Callable[[dict[str, Any]], SalesMetrics] | None = None,
) -> GroupResult:
    entered = int(row.get("entered") or 0)
    return GroupResult(
        key=key,
        entered=entered,
        below_min_n=entered < min_n,
        immature_ids=int(row.get("immature_ids") or 0),
        stages=tuple(_stage_row(k, stage, row) for k, stage in enumerate(stages, start=1)),
        sales=sales(row) if sales is not None else None,
    )


def _stage_row(k: int, stage: StageSpec, row: dict[str, Any]) -> StageRow:
    return StageRow(
        name=stage.name,
        label=stage.title,
        count=int(row.get(f"s{k}_count") or 0),
        conversion_from_previous=_number(row.get(f"s{k}_conversion_from_previous")),
        conversion_from_entry=_number(row.get(f"s{k}_conversion_from_entry")),
        dropped=None if k == 1 else int(row.get(f"s{k}_dropped") or 0),
        time_from_previous=_time_stats(row, f"s{k}_prev"),
        time_from_entry=_time_stats(row, f"s{k}_entry"),
        value_sum=(_number(row.get(f"s{k}_value")) or 0.0) if stage.value is not None else None,
        value_n=int(row.get(f"s{k}_value_n") or 0) if stage.value is not None else None,
        value_avg=_number(row.get(f"s{k}_value_avg")) if stage.value is not None else None,
        value_median=_number(row.get(f"s{k}_value_median")) if stage.value is not None else None,
    )


def _time_stats(row: dict[str, Any], prefix: str) -> TimeStats:
    return TimeStats(
        n=int(row.get(f"{prefix}_n") or 0),
        median_days=_number(row.get(f"{prefix}_p50")),
        p90_days=_number(row.get(f"{prefix}_p90")),
    )


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
