"""`attempts: best | each` (docs/semantics.md, Attempts): a key's furthest-reaching attempt
counts, or every attempt that starts after the previous one ended (`each`, below).

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
from funnelcli.spec.duration import Duration
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


# attempts: each (docs/semantics.md, Attempts): the attempts that follow one another. From
# the per-(key, anchor) layers: each attempt's end (`attempt_ends`), the first anchor after
# it (`attempt_next`), the chain of those pointers from the earliest anchor (`attempt_chain`,
# WITH RECURSIVE) and the rows it keeps (`each`). Every later layer is per attempt: the final
# aggregate counts rows (attempts) beside COUNT(DISTINCT key) (ids), and the data-quality
# counts of rows read take each key's `first_attempt` row only.
ENDS = "attempt_ends"  # (key, entry_at, end_at) per anchored attempt
NEXT = "attempt_next"  # (key, entry_at, next_at): the first anchor after the attempt's end
CHAIN = "attempt_chain"  # (key, entry_at) of every counted attempt: a recursive CTE
EACH = "each"  # the per-attempt layer, keeping the chain's attempts
END_AT = "end_at"
NEXT_AT = "next_at"
FIRST = "first_attempt"  # true on one row per key: what per-key counts (rows read) read


def ends(previous: str, stage_count: int, window: Duration | None) -> exp.Select:
    """`attempt_ends`: each attempt's end, t_n when it reached the last stage, else its anchor
    + window (NULL without a window: it never ends)."""
    converted = q.case(
        q.col(Layer.qualified(stage_count)), q.col(Layer.qualified_time(stage_count))
    )
    expiry: exp.Expr = (
        exp.Add(this=q.col(Layer.ENTRY), expression=q.interval(window))
        if window is not None
        else exp.cast(exp.null(), "TIMESTAMP")
    )
    return (
        exp.select(
            q.col(Layer.KEY),
            q.col(Layer.ENTRY),
            q.alias(q.ts(q.coalesce(converted, expiry)), END_AT),
            copy=False,
        )
        .from_(q.table(previous), copy=False)
        .where(q.not_null(q.col(Layer.ENTRY)), copy=False)
    )


def nexts() -> exp.Select:
    """`attempt_next`: per attempt, the key's first anchor strictly after its end."""
    same_key = exp.EQ(this=q.col(Layer.KEY, "a"), expression=q.col(Layer.KEY, "e"))
    later = exp.GT(this=q.col(Layer.ENTRY, "a"), expression=q.col(END_AT, "e"))
    return (
        exp.select(
            q.col(Layer.KEY, "e"),
            q.col(Layer.ENTRY, "e"),
            q.alias(exp.Min(this=q.col(Layer.ENTRY, "a")), NEXT_AT),
            copy=False,
        )
        .from_(exp.alias_(q.table(ENDS), "e", table=True), copy=False)
        .join(
            exp.alias_(q.table(ENDS), "a", table=True),
            on=exp.and_(same_key, later, copy=False),
            join_type="LEFT",
            copy=False,
        )
        .group_by(q.col(Layer.KEY, "e"), q.col(Layer.ENTRY, "e"), copy=False)
    )


def chain() -> exp.Union:
    """`attempt_chain` (recursive): the key's earliest anchor (its `first_attempt`), then
    each attempt's next."""
    earliest = q.alias(exp.Min(this=q.col(Layer.ENTRY)), Layer.ENTRY)
    start = (
        exp.select(q.col(Layer.KEY), earliest, q.alias(exp.true(), FIRST))
        .from_(q.table(ENDS), copy=False)
        .group_by(q.col(Layer.KEY), copy=False)
    )
    on = exp.and_(
        exp.EQ(this=q.col(Layer.KEY, "n"), expression=q.col(Layer.KEY, "c")),
        exp.EQ(this=q.col(Layer.ENTRY, "n"), expression=q.col(Layer.ENTRY, "c")),
        copy=False,
    )
    step = (
        exp.select(
            q.col(Layer.KEY, "n"),
            q.alias(q.col(NEXT_AT, "n"), Layer.ENTRY),
            q.alias(exp.false(), FIRST),
            copy=False,
        )
        .from_(exp.alias_(q.table(CHAIN), "c", table=True), copy=False)
        .join(exp.alias_(q.table(NEXT), "n", table=True), on=on, copy=False)
        .where(q.not_null(q.col(NEXT_AT, "n")), copy=False)
    )
    return exp.union(start, step, distinct=False, copy=False)


def each(previous: str) -> exp.Select:
    """`each`: the rows of `previous` (one per key and anchor) whose anchor is in the chain; a
    key without an anchor keeps its one row. `first_attempt` marks one row per key."""
    on = exp.and_(
        exp.EQ(this=q.col(Layer.KEY, CHAIN), expression=q.col(Layer.KEY, previous)),
        exp.EQ(this=q.col(Layer.ENTRY, CHAIN), expression=q.col(Layer.ENTRY, previous)),
        copy=False,
    )
    first = q.coalesce(q.col(FIRST, CHAIN), exp.true())  # a key without anchors: its one row
    every = exp.Column(this=exp.Star(), table=exp.to_identifier(previous, quoted=True))
    kept = q.or_(q.is_null(q.col(Layer.ENTRY, previous)), q.not_null(q.col(Layer.KEY, CHAIN)))
    return (
        exp.select(every, q.alias(first, FIRST), copy=False)
        .from_(q.table(previous), copy=False)
        .join(q.table(CHAIN), on=on, join_type="LEFT", copy=False)
        .where(kept, copy=False)
    )


def single(previous: str) -> exp.Select:
    """`each` when every key has one attempt: its rows, each its key's first."""
    return exp.select(exp.Star(), q.alias(exp.true(), FIRST), copy=False).from_(
        q.table(previous), copy=False
    )
