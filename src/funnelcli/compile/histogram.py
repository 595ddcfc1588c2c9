"""The time-to-convert histogram's query: over the report query's layers, the cohort's times
from the previous stage into one stage, counted per whole minute (docs/semantics.md,
"Time-to-convert histogram"). The bins are chosen from these counts in metrics/histogram.py,
so one small query serves every bin width."""

from __future__ import annotations

from sqlglot import exp

from funnelcli.compile.columns import Layer
from funnelcli.compile.funnel import CompiledFunnel
from funnelcli.compile.layers import cohort
from funnelcli.sql import ast as q

MINUTE = "minute"  # the result's columns: the whole minute (floored) and its ids
IDS = "ids"


def histogram_query(compiled: CompiledFunnel, k: int) -> exp.Select:
    """Per whole minute `floor((t_k − t_{k−1}) / 60 s)`, the cohort's keys with both times;
    over the same layers as `compiled` (and its rewrites), ordered by minute. k ≥ 2."""
    if not 2 <= k <= len(compiled.stage_names):
        raise ValueError(f"stage {k} has no time from a previous stage")
    later, earlier = q.col(Layer.qualified_time(k)), q.col(Layer.qualified_time(k - 1))
    seconds = exp.Sub(this=q.epoch(later.copy()), expression=q.epoch(earlier.copy()))
    minute = exp.cast(
        exp.Floor(this=exp.Div(this=exp.Paren(this=seconds), expression=exp.Literal.number(60))),
        "BIGINT",
    )
    both = exp.and_(cohort(), q.not_null(later), q.not_null(earlier), copy=False)
    select = (
        exp.select(q.alias(minute, MINUTE), q.alias(q.count_if(), IDS), copy=False)
        .from_(q.table(Layer.SCORED), copy=False)
        .where(both, copy=False)
        .group_by(exp.Literal.number(1), copy=False)
        .order_by(exp.Literal.number(1), copy=False)
    )
    select.set("with_", compiled.query.args["with_"].copy())
    return select
