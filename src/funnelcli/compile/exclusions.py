"""`exclude:` (docs/semantics.md, Exclusions): evidence between two stages' times that stops an
id counting — from the later stage on (`scope: onward`) or in the whole funnel (`funnel`).

Each item's evidence is written like a stage's (resolve.stage_plan) and kept per key as a list
of times (`xl_<i>`, layer 1, carried into `ids`). A layer `x_<to>` before its to-stage's sets
its hit `xf_<i>`: some time x with t_from < x < U, U = the to-stage's qualifying time, else
t_from + the funnel's `window:` (else the to-stage's `within:`; else no upper bound). An onward
flag then gates that stage and every later one (`gate`: no time, no value, not reached); the
ungated explicit flag `qe_<k>` keeps backfill's implication for the stages before it
(`reached`). A funnel-scope flag takes the key out of every stage (`reached`). `excluded_<i>`
(quality) counts the keys the report would count without the exclusions that the item hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from funnelcli.compile.columns import Layer
from funnelcli.compile.resolve import Resolver, StagePlan, stage_plan
from funnelcli.spec import Funnel, Order, StageSpec
from funnelcli.spec.duration import Duration
from funnelcli.spec.enums import Scope
from funnelcli.spec.exclude import ExcludeSpec
from funnelcli.sql import ast as q

IN_FUNNEL = "xin"  # per_id: reached stage 1 before funnel-scope exclusions


def times(i: int) -> str:
    """Item i's excluding evidence times, per key (layer 1, `ids`)."""
    return f"xl_{i}"


def flag(i: int) -> str:
    """Item i hits the key (set in its to-stage's layer)."""
    return f"xf_{i}"


def explicit(k: int) -> str:
    """Stage k explicitly reached before the onward exclusions gate it."""
    return f"qe_{k}"


def excluded(i: int) -> str:
    """Quality: keys the report would count that item i hits."""
    return f"excluded_{i}"


@dataclass(frozen=True)
class ExclusionPlan:
    index: int  # 0-based position in `exclude:`
    spec: ExcludeSpec
    evidence: StagePlan  # the item's rows (condition, time) as a stage's
    start: int  # from-stage, 1-based
    end: int  # to-stage, 1-based
    limit: Duration | None  # U when the to-stage has no time: t_from + this

    @property
    def onward(self) -> bool:
        return self.spec.scope is Scope.onward


def exclusion_plans(
    funnel: Funnel, resolver: Resolver, as_of: datetime | None = None
) -> list[ExclusionPlan]:
    """Each `exclude:` item's evidence and bounds (names checked by spec/checks.py)."""
    spec = funnel.spec
    names = [s.name for s in spec.stages]
    plans = []
    for i, item in enumerate(spec.exclude):
        stage = StageSpec(
            name=f"exclude_{i}", source=item.source, at=item.at, match=item.match, when=item.when
        )
        evidence = stage_plan(funnel, resolver, stage, 0, f"exclude[{i}]", as_of)
        start, end = (names.index(n) + 1 for n in item.ends(names))
        limit = spec.window or spec.stages[end - 1].within
        plans.append(ExclusionPlan(i, item, evidence, start, end, limit))
    return plans


def list_columns(plans: Sequence[ExclusionPlan], source: str) -> list[exp.Expr]:
    """Layer 1 of `source`: each of its items' evidence times per key (NULL without any)."""
    columns: list[exp.Expr] = []
    for plan in plans:
        evidence = plan.evidence
        if evidence.source != source:
            continue
        assert evidence.time is not None  # checked: an item needs a time
        listed = q.filtered(exp.ArrayAgg(this=evidence.time.copy()), evidence.condition.copy())
        columns.append(q.alias(listed, times(plan.index)))
    return columns


def ids_columns(plans: Sequence[ExclusionPlan], sources: Sequence[str]) -> list[exp.Expr]:
    """Layer 2 (`ids`): the lists, from their source's aggregate."""
    return [
        q.alias(
            q.col(times(p.index), Layer.source(sources.index(p.evidence.source))), times(p.index)
        )
        for p in plans
    ]


def _hit(plan: ExclusionPlan, candidate: exp.Expr) -> exp.Expr:
    """Some excluding time x with t_from < x < U (U: `candidate`, the to-stage's qualifying
    time, else t_from + limit, else unbounded); false when t_from is unknown."""
    x = exp.column("x")
    low = q.col(Layer.qualified_time(plan.start))
    if plan.limit is not None:
        upper: exp.Expr = q.coalesce(
            candidate.copy(), exp.Add(this=low.copy(), expression=q.interval(plan.limit))
        )
        below: exp.Expr = exp.LT(this=x.copy(), expression=upper)
    else:
        below = exp.Paren(
            this=q.or_(
                q.is_null(candidate.copy()), exp.LT(this=x.copy(), expression=candidate.copy())
            )
        )
    inside = exp.and_(exp.GT(this=x, expression=low), below, copy=False)
    lam = exp.Lambda(this=inside, expressions=[exp.to_identifier("x")])
    found = exp.ArraySize(this=exp.ArrayFilter(this=q.col(times(plan.index)), expression=lam))
    return q.coalesce(exp.GT(this=found, expression=exp.Literal.number(0)), exp.false())


def flags(k: int, columns: Sequence[exp.Expr], plans: Sequence[ExclusionPlan]) -> list[exp.Expr]:
    """The hits `xf_<i>` of the items ending at stage k, from layer q_k's `columns` (its
    qualifying time before the items): a layer `x_<k>` of their own before q_k, so q_k reads
    each hit once."""
    ending = [p for p in plans if p.end == k]
    if not ending:
        return []
    named = {c.alias_or_name: c for c in columns}
    candidate = named[Layer.qualified_time(k)].this.copy()
    prior = [q.col(flag(p.index)) for p in plans if p.onward and p.end < k]
    if prior:  # an earlier onward hit: stage k has no time for these items either
        candidate = q.case(exp.Not(this=exp.Paren(this=q.or_(*prior))), candidate)
    return [q.alias(_hit(p, candidate), flag(p.index)) for p in ending]


def gate(k: int, columns: list[exp.Expr], plans: Sequence[ExclusionPlan]) -> list[exp.Expr]:
    """Layer q_k's columns; when an onward item ending at or before k hits (`xf_<i>`), stage
    k has no time, no value, no attributed row (attribution: last / stage:NAME) and is not
    reached (`qe_<k>`: reached before this gate)."""
    onward = [p for p in plans if p.onward and p.end <= k]
    if not onward:
        return columns
    keep = exp.Not(this=exp.Paren(this=q.or_(*[q.col(flag(p.index)) for p in onward])))
    found: list[exp.Expr] = []
    gated_names = (Layer.qualified_time(k), Layer.qualified_value(k), Layer.qualified_item(k))
    for column in columns:
        name = column.alias_or_name
        body = column.this
        if name == Layer.qualified(k):
            found.append(q.alias(body.copy(), explicit(k)))
            body = exp.and_(exp.Paren(this=body), keep.copy(), copy=False)
        elif name in gated_names or name.startswith("q" + Layer.stage_attribute(k, "")):
            body = q.case(keep.copy(), body)
        found.append(q.alias(body, name))
    return found


def gated(plans: Sequence[ExclusionPlan], k: int) -> bool:
    """Whether an onward item gates stage k (then q_k has qe_k)."""
    return any(p.onward and p.end <= k for p in plans)


def reached(
    per_id: exp.Select, plans: Sequence[ExclusionPlan], order: Order, stages: int
) -> exp.Select:
    """`per_id` with its reached flags r_k after the exclusions: under backfill a stage before
    an onward item's to-stage is still implied by the (ungated) later evidence; from the
    to-stage on the item's hit stops the key; a funnel-scope hit stops it everywhere. Adds
    IN_FUNNEL (stage 1 reached before funnel-scope items)."""
    out = funnel_hits(plans)
    found: list[exp.Expr] = []
    for column in per_id.expressions:
        name = column.alias_or_name
        k = next((j for j in range(1, stages + 1) if name == Layer.reached(j)), None)
        if k is None:
            found.append(column)
            continue
        body = column.this
        if order is Order.backfill:
            body = body.transform(
                lambda node: (
                    q.col(explicit(int(node.name[3:])))
                    if isinstance(node, exp.Column)
                    and node.name.startswith("qr_")
                    and gated(plans, int(node.name[3:]))
                    else node
                )
            )
            stops = [q.col(flag(p.index)) for p in plans if p.onward and p.end <= k]
            if stops:
                body = exp.and_(body, exp.Not(this=exp.Paren(this=q.or_(*stops))), copy=False)
        if k == 1:
            found.append(q.alias(body.copy(), IN_FUNNEL))
        if out:
            stop = exp.Not(this=exp.Paren(this=q.or_(*[h.copy() for h in out])))
            body = exp.and_(body, stop, copy=False)
        found.append(q.alias(body, name))
    per_id.set("expressions", found)
    return per_id


def funnel_hits(plans: Sequence[ExclusionPlan]) -> list[exp.Expr]:
    """The hit flags of the funnel-scope items (each takes the key out of every stage)."""
    return [q.col(flag(p.index)) for p in plans if not p.onward]


def quality_columns(plans: Sequence[ExclusionPlan]) -> list[exp.Expr]:
    """Per item: the keys in the cohort before the funnel-scope items (stage 1, period,
    filter) that it hits."""
    member = exp.and_(q.col(IN_FUNNEL), q.col(Layer.IN_PERIOD), q.col(Layer.KEPT), copy=False)
    return [
        q.alias(
            q.count_if(exp.and_(member.copy(), q.col(flag(p.index)), copy=False)), excluded(p.index)
        )
        for p in plans
    ]
