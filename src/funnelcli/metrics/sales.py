"""Sales metrics of a group from the query's aggregates: win rates, cycle, velocity (pure).

docs/sales.md is the contract: every division by zero (or by a cycle of 0 days) gives null.
"""

from __future__ import annotations

from funnelcli.compile.rows import GroupRow
from funnelcli.metrics.funnel import ratio
from funnelcli.outputs.report import SalesMetrics
from funnelcli.spec import FunnelSpec


def sales_metrics(spec: FunnelSpec, row: GroupRow) -> SalesMetrics:
    """The sales metrics of one result row (the cohort, or one breakdown group)."""
    won_index = spec.won_stage
    entered = row.entered
    won = row.stages[won_index - 1].count
    lost = row.lost if spec.lost is not None else None
    still_open = entered - won - (lost or 0)
    closed_rate = ratio(won, won + lost) if lost is not None else None
    open_rate = ratio(won, entered)
    cycle = row.cycle_p50_days
    # The win stage's own value_avg (null when it declares no value:): one computation.
    average = row.stages[won_index - 1].value_avg
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
        cycle_n=row.cycle_n,
        cycle_median_days=cycle,
        average_deal_value=average,
        sales_velocity=velocity,
    )
