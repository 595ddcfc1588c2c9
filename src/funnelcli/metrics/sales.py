"""Sales metrics of a group from the query's aggregates: win rates, cycle, velocity (pure).

docs/sales.md is the contract: every division by zero (or by a cycle of 0 days) gives null.
"""

from __future__ import annotations

import math
from typing import Any

from funnelcli.outputs.report import SalesMetrics
from funnelcli.spec import FunnelSpec


def sales_metrics(spec: FunnelSpec, row: dict[str, Any]) -> SalesMetrics:
    """The sales metrics of one result row (the cohort, or one breakdown group)."""
    won_index = spec.won_stage
    entered = int(row.get("entered") or 0)
    won = int(row.get(f"s{won_index}_count") or 0)
    lost = int(row.get("lost_count") or 0) if spec.lost is not None else None
    still_open = entered - won - (lost or 0)
    closed_rate = _ratio(won, won + lost) if lost is not None else None
    open_rate = _ratio(won, entered)
    cycle = _number(row.get("cycle_p50"))
    # The win stage's own value_avg (null when it declares no value:): one computation.
    average = _number(row.get(f"s{won_index}_value_avg"))
    win_rate = closed_rate if spec.lost is not None else open_rate
    velocity = None
    if average is not None and win_rate is not None and cycle is not None and cycle > 0:
        velocity = still_open * average * win_rate / cycle
    return SalesMetrics(
        won_stage=spec.stages[won_index - 1].name,
        won=won,
        lost=lost,
        open=still_open,
        win_rate_closed=closed_rate,
        win_rate_open=open_rate,
        cycle_n=int(row.get("cycle_n") or 0),
        cycle_median_days=cycle,
        average_deal_value=average,
        sales_velocity=velocity,
    )


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
