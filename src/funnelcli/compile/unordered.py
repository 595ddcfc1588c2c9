"""`order: any` (docs/semantics.md, Order policy): stages in any order within the window of an
anchor (PostHog's "unordered" funnel). Row k counts the keys that did at least k stages.

- `attempts: first`: the anchor is the key's earliest evidence time of any stage (`ev`).
- `attempts: best`: every evidence time of every stage is an anchor (`attempts`: one row per
  key and anchor; `best` keeps the anchor doing the most stages, ties to the earliest).

Per (key, anchor) `found` takes each stage's earliest evidence time at or after the anchor and
at most a window (and a summary horizon) after it (`of_<j>`, NULL when none) and how many
stages that is (`done`); `ranked` gives each found time its rank among them (how many found
times are at or before it); `stages_done` then gives row k its columns as the ordered layers
do: qt_k = the k-th smallest found time (the least found time whose rank is ≥ k), qr_k =
done ≥ k, qv_k NULL (a value belongs to a named stage). Only comparisons, CASE and LEAST:
every dialect runs `attempts: first`; `best` reads a long source's times as lists (lambdas).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from funnelcli.compile import sources
from funnelcli.compile.attempts import ANCHORS
from funnelcli.compile.columns import Layer
from funnelcli.compile.layers import element_time
from funnelcli.compile.resolve import Resolver, StagePlan
from funnelcli.spec import Funnel
from funnelcli.spec.duration import Duration
from funnelcli.sql import ast as q

FOUND = "found"  # per (key, anchor): each stage's found time, and how many stages
RANKED = "ranked"  # each found time's rank
DONE_LAYER = "stages_done"  # qt_k/qv_k/qr_k of row k: at least k stages done
DONE = "done"  # the number of stages found from the anchor


def found_time(k: int) -> str:
    return f"of_{k}"


def rank(k: int) -> str:
    return f"rank_{k}"


def with_entry(minima: Sequence[exp.Expr | None]) -> exp.Select:
    """`ev` under attempts: first: the anchor is the earliest evidence time of any stage
    (every stage is timed: spec/unordered.py)."""
    timed = [m.copy() for m in minima if m is not None]
    entry = q.least(*timed) if timed else exp.null()
    return exp.select(exp.Star(), q.alias(q.ts(entry), Layer.ENTRY), copy=False).from_(
        q.table(Layer.IDS), copy=False
    )


def anchors(funnel: Funnel, plans: Sequence[StagePlan], resolver: Resolver) -> exp.Expr:
    """`attempts` under attempts: best: each key's distinct evidence times of every stage — a
    long source's rows (the stage's condition holds the as-of bound), a wide source's merged
    earliest time per stage (its duplicate rows keep the earliest: ids' `m_<k>`)."""
    parts: list[exp.Select] = []
    for plan in plans:
        assert plan.time is not None  # order: any has timed stages only
        if plan.as_list:
            key = sources.row_key(funnel, plan.source, resolver)
            rows = sources.source_rows(funnel, plan.source, resolver)
            part = (
                exp.select(q.alias(key, Layer.KEY), q.alias(q.ts(plan.time.copy()), Layer.ENTRY))
                .from_(rows, copy=False)
                .where(plan.condition.copy(), copy=False)
            )
        else:
            time = q.col(Layer.first_time(plan.index))
            part = (
                exp.select(q.alias(q.col(Layer.KEY), Layer.KEY), q.alias(q.ts(time), Layer.ENTRY))
                .from_(q.table(Layer.IDS), copy=False)
                .where(q.not_null(time.copy()), copy=False)
            )
        parts.append(part)
    union: exp.Expr = parts[0]
    for part in parts[1:]:
        union = exp.Union(this=union, expression=part, distinct=True)
    if len(parts) == 1:
        union = parts[0].distinct(copy=False)
    return union


def found(
    plans: Sequence[StagePlan],
    previous: str,
    window: Duration | None,
    horizon: Duration | None,
) -> exp.Select:
    """`found`: per stage its earliest evidence time x with anchor ≤ x ≤ anchor + window
    (and + horizon); `done` = how many stages have one."""
    entry = q.col(Layer.ENTRY)

    def bounds(t: exp.Expr) -> exp.Expr:
        checks: list[exp.Expr | None] = [exp.GTE(this=t.copy(), expression=entry.copy())]
        for bound in (window, horizon):
            if bound is not None:
                limit = exp.Add(this=entry.copy(), expression=q.interval(bound))
                checks.append(exp.LTE(this=t.copy(), expression=limit))
        return q.and_(*checks)

    columns: list[exp.Expr] = [exp.Star()]
    done: exp.Expr | None = None
    for plan in plans:
        k = plan.index
        if plan.as_list:
            t = element_time(exp.column("e"), plan)
            lam = exp.Lambda(this=bounds(t), expressions=[exp.to_identifier("e")])
            hit = q.first_element(exp.ArrayFilter(this=q.col(Layer.times(k)), expression=lam))
            time = element_time(hit, plan)
        else:
            m = q.col(Layer.first_time(k))
            time = q.case(bounds(m), m.copy())
        columns.append(q.alias(q.ts(time), found_time(k)))
        one = exp.Case().when(q.not_null(time.copy()), exp.Literal.number(1), copy=False)
        one = one.else_(exp.Literal.number(0), copy=False)
        done = one if done is None else exp.Add(this=done, expression=one)
    assert done is not None
    columns.append(q.alias(done, DONE))
    return exp.select(*columns, copy=False).from_(q.table(previous), copy=False)


def ranked(stage_count: int) -> exp.Select:
    """`ranked`: rank_j = how many found times are at or before stage j's (NULL: none)."""
    columns: list[exp.Expr] = [exp.Star()]
    for j in range(1, stage_count + 1):
        mine = q.col(found_time(j))
        total: exp.Expr | None = None
        for i in range(1, stage_count + 1):
            before = exp.LTE(this=q.col(found_time(i)), expression=mine.copy())
            one = exp.Case().when(before, exp.Literal.number(1), copy=False)
            one = one.else_(exp.Literal.number(0), copy=False)
            total = one if total is None else exp.Add(this=total, expression=one)
        assert total is not None
        columns.append(q.alias(q.case(q.not_null(mine), total), rank(j)))
    return exp.select(*columns, copy=False).from_(q.table(FOUND), copy=False)


def stages_done(stage_count: int) -> exp.Select:
    """`stages_done`: row k's qualifying time (the k-th smallest found time: ties count once
    per stage), reached flag (done ≥ k) and no value."""
    columns: list[exp.Expr] = [exp.Star()]
    for k in range(1, stage_count + 1):
        candidates = []
        for j in range(1, stage_count + 1):
            at_least = exp.GTE(this=q.col(rank(j)), expression=exp.Literal.number(k))
            candidates.append(q.case(at_least, q.col(found_time(j))))
        reached = exp.GTE(this=q.col(DONE), expression=exp.Literal.number(k))
        columns += [
            q.alias(q.ts(q.least(*candidates)), Layer.qualified_time(k)),
            q.alias(exp.cast(exp.null(), "DOUBLE"), Layer.qualified_value(k)),
            q.alias(reached, Layer.qualified(k)),
        ]
    return exp.select(*columns, copy=False).from_(q.table(RANKED), copy=False)


def layers(
    plans: Sequence[StagePlan],
    previous: str,
    window: Duration | None,
    horizon: Duration | None,
) -> list[tuple[str, exp.Expr]]:
    """The three layers after `ev` (or after the per-anchor `ev` under attempts: best)."""
    n = len(plans)
    return [
        (FOUND, found(plans, previous, window, horizon)),
        (RANKED, ranked(n)),
        (DONE_LAYER, stages_done(n)),
    ]


__all__ = ["ANCHORS", "DONE_LAYER", "anchors", "layers", "with_entry"]
