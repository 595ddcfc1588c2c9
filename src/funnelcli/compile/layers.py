"""The report query's per-key layers, as sqlglot ASTs (docs/semantics.md explains them), over
layer 1 (`agg_<i>`, one per source: sources.py):

2. `ids`: the sources full-outer-joined on the key; `ev` adds the entry time.
3. `q_<k>`: one projection per stage that applies the window, `within:` and the order policy
   to pick the stage's earliest *qualifying* time; `per_id` the reached flags under the order
   policy, the period and the filter; `scored` the maturity anchor and immaturity.

Builders take fresh nodes and build with copy=False; a node used twice is copied explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlglot import exp

from funnelcli.compile.columns import PERIOD, Layer
from funnelcli.compile.resolve import StagePlan
from funnelcli.compile.sequence import uninterrupted
from funnelcli.spec import Order
from funnelcli.spec.duration import Duration
from funnelcli.sql import ast as q


def joined_ids(
    sources: Sequence[str],
    plans: Sequence[StagePlan],
    attributes: Mapping[str, tuple[str, str]],
    lost: tuple[str, exp.Expr] | None,
    none_group: str,
    first_known: frozenset[str] = frozenset(),
) -> exp.Select:
    """Layer 2: the per-source aggregates full-outer-joined on the key, one row per key;
    missing attribute values become `none_group` (`first_known` ones: their first non-empty
    value beside, left NULL)."""
    keys = [q.col(Layer.KEY, Layer.source(i)) for i in range(len(sources))]
    columns: list[exp.Expr] = [q.alias(q.coalesce(*keys), Layer.KEY)]
    for i in range(len(sources)):
        columns.append(q.alias(q.col(Layer.ROWS, Layer.source(i)), Layer.rows(i)))
        if timed(sources[i], plans):
            columns.append(q.alias(q.col(Layer.LATEST, Layer.source(i)), Layer.latest(i)))
    for column, i in _stage_column_origins(plans, sources).items():
        columns.append(q.alias(q.col(column, Layer.source(i)), column))
    if lost is not None:
        i = sources.index(lost[0])
        columns.append(q.alias(q.col(Layer.LOST, Layer.source(i)), Layer.LOST))
    for alias, (attr_source, _raw) in attributes.items():
        value = q.col(alias, Layer.source(sources.index(attr_source)))
        columns.append(q.alias(q.coalesce(value, exp.Literal.string(none_group)), alias))
        if alias in first_known:
            first = Layer.first_known(alias)
            columns.append(q.alias(q.col(first, Layer.source(sources.index(attr_source))), first))
    select = exp.select(*columns, copy=False).from_(q.table(Layer.source(0)), copy=False)
    for i in range(1, len(sources)):
        earlier = q.coalesce(*[q.col(Layer.KEY, Layer.source(j)) for j in range(i)])
        select = select.join(
            q.table(Layer.source(i)),
            on=exp.EQ(this=q.col(Layer.KEY, Layer.source(i)), expression=earlier),
            join_type="FULL OUTER",
            copy=False,
        )
    return select


def timed(source: str, plans: Sequence[StagePlan]) -> bool:
    """Whether a source brings any timed evidence (then layer 2 has its `latest_<i>`)."""
    return any(p.source == source and p.time is not None for p in plans)


def _stage_column_origins(plans: Sequence[StagePlan], sources: Sequence[str]) -> dict[str, int]:
    origins: dict[str, int] = {}
    for plan in plans:
        i = sources.index(plan.source)
        k = plan.index
        if plan.time is None:
            origins[Layer.untimed(k)] = i
        elif plan.as_list:
            origins[Layer.times(k)] = i
        else:
            origins[Layer.first_time(k)] = i
        if plan.value is not None and not plan.as_list:
            origins[Layer.value(k)] = i
        if not plan.as_list:
            origins.update({Layer.stage_attribute(k, a): i for a, _ in plan.attributes})
    return origins


def raw_minima(plans: Sequence[StagePlan]) -> list[exp.Expr | None]:
    """Each stage's earliest evidence time without any window (None: an untimed stage): the
    entry time, backwards detection."""

    def raw_min(plan: StagePlan) -> exp.Expr | None:
        if plan.time is None:
            return None
        if plan.as_list:
            return element_time(q.first_element(q.col(Layer.times(plan.index))), plan)
        return q.col(Layer.first_time(plan.index))

    return [raw_min(p) for p in plans]


def with_entry(minima: Sequence[exp.Expr | None], order: Order) -> exp.Select:
    """`ev`: the keys with their entry time: the first stage's earliest time, or under
    backfill the earliest time of any stage when the first has none."""
    timed_minima = [m for m in minima if m is not None]
    if order is not Order.backfill or not timed_minima:
        entry = (minima[0] or exp.null()).copy()
    else:
        first_min = minima[0]
        rest = q.least(*[m.copy() for m in timed_minima])
        entry = q.coalesce(first_min.copy(), rest) if first_min is not None else rest
    return exp.select(exp.Star(), q.alias(q.ts(entry), Layer.ENTRY), copy=False).from_(
        q.table(Layer.IDS), copy=False
    )


def element_time(element: exp.Expr, plan: StagePlan) -> exp.Expr:
    """The time of one element of a stage's evidence list (a bare time when it has no value
    and no item label)."""
    if plan.value is None and plan.item is None and not plan.attributes:
        return element
    return exp.Dot(this=element, expression=exp.to_identifier("t"))


def qualify(
    plan: StagePlan,
    window: Duration | None,
    order: Order,
    taken: Sequence[StagePlan] = (),
    horizon: Duration | None = None,
    anchored: bool = False,
) -> list[exp.Expr]:
    """Layer 3 for stage k: qt_k (qualifying time), qv_k (its value), qr_k (explicit
    evidence qualified); with an item label (evidence: once) also qs_k, and the items the
    earlier stages `taken` took are not candidates. `horizon`: evidence must also be within it
    of entry (as a window). `anchored` (attempts, compile/attempts.py): stage 1 takes its
    evidence at the attempt's entry, not before."""
    k = plan.index
    previous_time = q.col(Layer.qualified_time(k - 1)) if k > 1 else None
    strict = order is not Order.backfill  # strict and sequence
    item: exp.Expr = exp.null()
    # attribution: each attribute on the row that gave qt_k (compile/attribution.py)
    attributes: dict[str, exp.Expr] = {
        a: q.col(Layer.stage_attribute(k, a)) for a, _ in plan.attributes
    }
    if plan.time is None:
        reached: exp.Expr = exp.func("coalesce", q.col(Layer.untimed(k)), exp.false())
        qualified_time: exp.Expr = exp.cast(exp.null(), "TIMESTAMP")
        value: exp.Expr = q.col(Layer.value(k)) if plan.value is not None else exp.null()
    else:

        def bounds(t: exp.Expr) -> exp.Expr:
            checks: list[exp.Expr | None] = []
            for bound in (window, horizon):
                if bound is not None and k > 1:
                    limit = exp.Add(this=q.col(Layer.ENTRY), expression=q.interval(bound))
                    checks.append(exp.LTE(this=t.copy(), expression=limit))
            if plan.spec.within is not None and previous_time is not None:
                limit = exp.Add(this=previous_time.copy(), expression=q.interval(plan.spec.within))
                checks.append(
                    q.or_(q.is_null(previous_time.copy()), exp.LTE(this=t.copy(), expression=limit))
                )
            if strict and k > 1:
                lower = q.coalesce(*[q.col(Layer.qualified_time(j)) for j in range(k - 1, 0, -1)])
                checks.append(
                    q.or_(q.is_null(lower.copy()), exp.GTE(this=t.copy(), expression=lower))
                )
            if anchored and k == 1:  # the attempt's anchor is one of these times
                checks.append(exp.GTE(this=t.copy(), expression=q.col(Layer.ENTRY)))
            checks += [_not_taken(t, j.index) for j in taken]
            return q.and_(*checks)

        if plan.as_list:
            element = exp.to_identifier("e")
            t = element_time(exp.column("e"), plan)
            lam = exp.Lambda(this=bounds(t), expressions=[element])
            hit = q.first_element(exp.ArrayFilter(this=q.col(Layer.times(k)), expression=lam))
            qualified_time = element_time(hit, plan)
            value = (
                exp.Dot(this=hit.copy(), expression=exp.to_identifier("v"))
                if plan.value is not None
                else exp.null()
            )
            if plan.item is not None:
                item = exp.Dot(this=hit.copy(), expression=exp.to_identifier("s"))
            attributes = {
                a: exp.Dot(this=hit.copy(), expression=exp.to_identifier(a)) for a in attributes
            }
        else:
            m = q.col(Layer.first_time(k))
            qualified_time = q.case(bounds(m), m.copy())
            value = q.col(Layer.value(k)) if plan.value is not None else exp.null()
        reached = q.not_null(qualified_time.copy())
    if order is Order.sequence and k > 1 and plan.time is not None:
        ok = uninterrupted(k, qualified_time.copy())
        reached = exp.and_(reached, ok.copy(), copy=False)
        qualified_time = q.case(ok, qualified_time)
    if strict and k > 1:
        # An id stops at the first stage it does not reach; later evidence is ignored.
        reached = exp.and_(q.col(Layer.qualified(k - 1)), reached, copy=False)
        qualified_time = q.case(q.col(Layer.qualified(k - 1)), qualified_time)
    value = (
        q.case(reached.copy(), value) if plan.value is not None else exp.cast(exp.null(), "DOUBLE")
    )
    columns = [
        q.alias(q.ts(qualified_time), Layer.qualified_time(k)),
        q.alias(exp.cast(value, "DOUBLE", copy=False), Layer.qualified_value(k)),
        q.alias(reached, Layer.qualified(k)),
    ]
    if plan.item is not None:
        columns.append(q.alias(q.case(reached.copy(), item), Layer.qualified_item(k)))
    for alias, on_row in attributes.items():
        columns.append(
            q.alias(q.case(reached.copy(), on_row), "q" + Layer.stage_attribute(k, alias))
        )
    return columns


def _not_taken(t: exp.Expr, j: int) -> exp.Expr:
    """The list element whose time is `t` is not the item stage j took (evidence: once)."""
    element = t.this if isinstance(t, exp.Dot) else t
    same = exp.and_(
        exp.EQ(this=t.copy(), expression=q.col(Layer.qualified_time(j))),
        exp.EQ(
            this=exp.Dot(this=element.copy(), expression=exp.to_identifier("s")),
            expression=q.col(Layer.qualified_item(j)),
        ),
        copy=False,
    )
    return exp.Not(this=exp.func("coalesce", exp.Paren(this=same), exp.false()))


def per_id(
    plans: Sequence[StagePlan],
    minima: Sequence[exp.Expr | None],
    previous: str,
    order: Order,
    since: datetime | None,
    until: datetime | None,
    periods: Sequence[tuple[datetime, datetime]],
    kept: exp.Expr | None,
    attributed: Sequence[exp.Expr] = (),
) -> exp.Select:
    """`per_id`: reached flags (r_k), backwards flags (bw_k), the entry period, whether the
    key enters in the period (`in_period`) and is kept by the filter (`kept`); `attributed`:
    the breakdown columns attribution credits (compile/attribution.py)."""
    n = len(plans)
    columns: list[exp.Expr] = [exp.Star()]
    for k in range(1, n + 1):
        if order is Order.backfill:
            reached = q.or_(*[q.col(Layer.qualified(j)) for j in range(k, n + 1)])
        else:
            reached = q.col(Layer.qualified(k))
        has_key = q.not_null(q.col(Layer.KEY))
        columns.append(q.alias(exp.and_(has_key, reached, copy=False), Layer.reached(k)))
    # Backwards: a stage's earliest time precedes an earlier stage's earliest time.
    for k in range(2, n + 1):
        current = minima[k - 1]
        earlier = [m for m in minima[: k - 1] if m is not None]
        if current is None or not earlier or order is Order.any:  # any: no order to break
            flag: exp.Expr = exp.false()
        else:
            latest = q.greatest(*[m.copy() for m in earlier])
            flag = exp.func("coalesce", exp.LT(this=current.copy(), expression=latest), exp.false())
        columns.append(q.alias(flag, Layer.backwards(k)))
    entry = q.col(Layer.ENTRY)
    in_period: list[exp.Expr] = []
    if since is not None:
        in_period.append(exp.GTE(this=entry.copy(), expression=q.ts_literal(since)))
    if until is not None:
        in_period.append(exp.LT(this=entry.copy(), expression=q.ts_literal(until)))
    if periods:
        bucket = exp.Case()
        for index, (start, end) in enumerate(periods):
            inside = exp.and_(
                exp.GTE(this=entry.copy(), expression=q.ts_literal(start)),
                exp.LT(this=entry.copy(), expression=q.ts_literal(end)),
                copy=False,
            )
            bucket = bucket.when(inside, exp.Literal.number(index), copy=False)
        columns.append(q.alias(bucket, PERIOD))
        in_period.append(q.not_null(bucket.copy()))
    period = exp.func("coalesce", q.and_(*in_period), exp.false()) if in_period else exp.true()
    columns.append(q.alias(period, Layer.IN_PERIOD))
    if kept is not None:
        kept = exp.func("coalesce", exp.Paren(this=kept), exp.false())
    columns.append(q.alias(kept if kept is not None else exp.true(), Layer.KEPT))
    columns += attributed
    return exp.select(*columns, copy=False).from_(q.table(previous), copy=False)


def anchor(latest_columns: Sequence[str]) -> exp.Select:
    """The default `as_of`: the latest evidence time of any row with a key (NULL without
    timed evidence), over `per_id`."""
    if not latest_columns:
        return exp.select(exp.cast(exp.null(), "TIMESTAMP"), copy=False)
    latest = [exp.Max(this=q.col(c)) for c in latest_columns]
    return (
        exp.select(q.greatest(*latest), copy=False)
        .from_(q.table(Layer.PER_ID), copy=False)
        .where(q.not_null(q.col(Layer.KEY)), copy=False)
    )


def scored(window: Duration | None, anchor_value: exp.Expr) -> exp.Select:
    """`scored`: `as_of` (the maturity anchor: a literal, or the anchor subquery) and
    `immature` (entered less than a window before it)."""
    columns: list[exp.Expr] = [exp.Star(), q.alias(q.ts(anchor_value.copy()), Layer.AS_OF)]
    if window is not None:
        matures = exp.Add(this=q.col(Layer.ENTRY), expression=q.interval(window))
        later = exp.GT(this=matures, expression=q.ts(anchor_value))
        columns.append(q.alias(exp.func("coalesce", later, exp.false()), Layer.IMMATURE))
    return exp.select(*columns, copy=False).from_(q.table(Layer.PER_ID), copy=False)


def cohort() -> exp.Expr:
    """The keys a report counts: in the funnel (reached stage 1), entering in the period,
    kept by the filter."""
    return exp.and_(q.col(Layer.reached(1)), q.col(Layer.IN_PERIOD), q.col(Layer.KEPT), copy=False)
