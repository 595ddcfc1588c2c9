"""`order: sequence` (docs/semantics.md, Order policy): strict, and between two consecutive
stages' times the key has no row that is evidence for neither of them (PostHog "strict",
ClickHouse `strict_order`). Every stage reads one long source's `at:` (spec/checks.py), so the
key's rows are one list of events {t, f}: the row's time and a bit per stage it is evidence
for (bit k−1 for stage k)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from funnelcli.compile.columns import Layer
from funnelcli.compile.resolve import Resolver, StagePlan
from funnelcli.spec import Funnel
from funnelcli.sql import ast as q

EVENTS = "events"  # the key's rows as a sorted list of {t, f} (layer 1, then `ids`)


def events_column(
    funnel: Funnel, source_name: str, plans: Sequence[StagePlan], resolver: Resolver
) -> exp.Expr:
    """Layer 1 of the sequence's source: every row with a time, as {t, f}, sorted."""
    source = funnel.spec.sources[source_name]
    assert source.at is not None  # checked: order: sequence needs the source's at:
    raw = resolver.column(source_name, source.at, f"sources.{source_name}.at")
    time = resolver.time(source_name, raw)
    bits: exp.Expr = exp.Literal.number(0)
    for plan in plans:
        bit = exp.Literal.number(1 << (plan.index - 1))
        flag = exp.Case().when(plan.condition.copy(), bit, copy=False).else_(exp.Literal.number(0))
        bits = exp.Add(this=bits, expression=flag)
    element = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("t"), expression=time),
            exp.PropertyEQ(this=exp.to_identifier("f"), expression=exp.cast(bits, "BIGINT")),
        ]
    )
    listed = q.filtered(exp.ArrayAgg(this=element), q.not_null(q.col(raw)))
    return q.alias(exp.ArraySort(this=listed, nulls_first=exp.false()), EVENTS)


def uninterrupted(k: int, candidate: exp.Expr) -> exp.Expr:
    """No event of the key strictly between qt_{k-1} and `candidate` (stage k's time) that is
    evidence for neither stage k−1 nor stage k. k ≥ 2."""
    mask = exp.Literal.number((1 << (k - 2)) | (1 << (k - 1)))
    t = exp.Dot(this=exp.column("e"), expression=exp.to_identifier("t"))
    f = exp.Dot(this=exp.column("e"), expression=exp.to_identifier("f"))
    other = exp.and_(
        exp.GT(this=t.copy(), expression=q.col(Layer.qualified_time(k - 1))),
        exp.LT(this=t, expression=candidate),
        exp.EQ(
            this=exp.Paren(this=exp.BitwiseAnd(this=f, expression=mask)),
            expression=exp.Literal.number(0),
        ),
        copy=False,
    )
    lam = exp.Lambda(this=other, expressions=[exp.to_identifier("e")])
    between = exp.ArraySize(this=exp.ArrayFilter(this=q.col(EVENTS), expression=lam))
    found = exp.GT(this=between, expression=exp.Literal.number(0))
    return exp.Not(this=exp.func("coalesce", found, exp.false()))
