"""`attempts: best` (docs/semantics.md, Attempts): a key's furthest-reaching attempt counts.

An attempt is anchored at one of the key's first-stage evidence times (its distinct times on
a long source; a wide or untimed first stage has one). The per-key layers run once per
(key, anchor): `ev` is the keys joined to their anchors (`attempts`), each anchor the
attempt's `entry_at` and stage 1's time, and every later stage qualifies from it as usual
(window from the anchor; strict's lower bound keeps evidence before the anchor out). `best`
then keeps one row per key: the attempt reaching the most stages, ties to the earliest
anchor. Everything after it (counts, times, --by, the cohort, lists) is per key, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from funnelcli.compile import sources
from funnelcli.compile.columns import Layer
from funnelcli.compile.resolve import Resolver, StagePlan
from funnelcli.spec import Attempts, Funnel
from funnelcli.sql import ast as q

ANCHORS = "attempts"  # the CTE of (key, entry_at): one row per key and first-stage time
BEST = "best"  # the CTE keeping each key's best attempt
RANK = "attempt_rank"  # 1 on the attempt a key keeps


def anchored(funnel: Funnel, plans: Sequence[StagePlan]) -> bool:
    """Whether the per-key layers run per attempt: attempts other than first, and a first
    stage with several evidence times per key (a list: a long source's `at:`)."""
    return funnel.spec.attempts is not Attempts.first and plans[0].as_list


def anchors(funnel: Funnel, plan: StagePlan, resolver: Resolver) -> exp.Select:
    """`attempts`: each key's distinct first-stage evidence times (the `as_of` bound is in
    the stage's condition)."""
    assert plan.time is not None
    key = sources.row_key(funnel, plan.source, resolver)
    rows = sources.source_rows(funnel, plan.source, resolver)
    return (
        exp.select(q.alias(key, Layer.KEY), q.alias(plan.time.copy(), Layer.ENTRY), copy=False)
        .distinct(copy=False)
        .from_(rows, copy=False)
        .where(plan.condition.copy(), copy=False)
    )


def with_anchors() -> exp.Select:
    """`ev` per attempt: every key with each of its anchors as `entry_at` (a key without
    first-stage evidence keeps one row, its `entry_at` NULL)."""
    entry = q.alias(q.ts(q.col(Layer.ENTRY, ANCHORS)), Layer.ENTRY)
    every = exp.Column(this=exp.Star(), table=exp.to_identifier(Layer.IDS, quoted=True))
    return (
        exp.select(every, entry)
        .from_(q.table(Layer.IDS), copy=False)
        .join(
            q.table(ANCHORS),
            on=exp.EQ(this=q.col(Layer.KEY, ANCHORS), expression=q.col(Layer.KEY, Layer.IDS)),
            join_type="LEFT",
            copy=False,
        )
    )


def best(previous: str, stage_count: int, out: Sequence[exp.Expr] = ()) -> exp.Select:
    """`best`: per key, the attempt that reaches the most stages (explicitly, in order: the
    order is strict; after the onward exclusions, which gate q_k), ties to the earliest
    anchor. An attempt that one of `out` (funnel-scope exclusion hits) takes out of the
    funnel reaches no stage, so another attempt of the key counts when there is one."""
    depth: exp.Expr | None = None
    for k in range(1, stage_count + 1):
        one = exp.Case().when(q.col(Layer.qualified(k)), exp.Literal.number(1), copy=False)
        one = one.else_(exp.Literal.number(0), copy=False)
        depth = one if depth is None else exp.Add(this=depth, expression=one)
    assert depth is not None
    if out:
        depth = exp.Case().when(q.or_(*out), exp.Literal.number(0)).else_(depth)
    order = exp.Order(
        expressions=[
            exp.Ordered(this=depth, desc=True, nulls_first=False),
            exp.Ordered(this=q.col(Layer.ENTRY), desc=False, nulls_first=False),
        ]
    )
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[q.col(Layer.KEY)],
        order=order,
    )
    ranked = exp.select(exp.Star(), q.alias(rank, RANK), copy=False).from_(
        q.table(previous), copy=False
    )
    return (
        exp.select(exp.Star(), copy=False)
        .from_(exp.alias_(exp.Subquery(this=ranked), "r", table=True), copy=False)
        .where(exp.EQ(this=q.col(RANK), expression=exp.Literal.number(1)), copy=False)
    )
