"""`evidence: once` (docs/semantics.md, Evidence): a row fills at most one stage.

Stages that read the same source and time column can share a row's evidence. Under `once`
each such stage keeps its every piece of evidence as a sorted list of items {t, s[, v]} — the
time, the row's stage value (its label: rows of one key with the same time and stage value
are one piece of evidence) and the value — and takes the earliest qualifying item that no
earlier stage of its group took (layers.qualify). Under `shared` nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlglot import exp

from funnelcli.compile.resolve import Resolver, StagePlan
from funnelcli.spec import Evidence, Funnel, Shape
from funnelcli.sql import ast as q


def listed(funnel: Funnel, plans: Sequence[StagePlan], resolver: Resolver) -> list[StagePlan]:
    """The plans with the stages that may share evidence listed with their items."""
    spec = funnel.spec
    if spec.evidence is Evidence.shared:
        return list(plans)
    groups: dict[tuple[str, str | None], int] = {}
    for plan in plans:
        if plan.time is not None:
            groups[(plan.source, plan.time_column)] = (
                groups.get((plan.source, plan.time_column), 0) + 1
            )
    found = []
    for plan in plans:
        if plan.time is None or groups[(plan.source, plan.time_column)] < 2:
            found.append(plan)
            continue
        source = spec.sources[plan.source]
        label: exp.Expr = exp.Literal.string("")
        if source.shape is not Shape.wide and source.stage is not None:
            column = resolver.column(plan.source, source.stage, f"sources.{plan.source}.stage")
            label = q.coalesce(exp.cast(q.col(column), "VARCHAR"), exp.Literal.string(""))
        found.append(replace(plan, as_list=True, item=label))
    return found


def sharing(plans: Sequence[StagePlan], plan: StagePlan) -> list[StagePlan]:
    """The earlier stages whose items `plan`'s may be (same source and time column)."""
    if plan.item is None:
        return []
    return [
        p
        for p in plans[: plan.index - 1]
        if p.item is not None and (p.source, p.time_column) == (plan.source, plan.time_column)
    ]
