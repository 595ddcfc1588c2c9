"""One key's evidence rows, source by source, as `funnel trace` shows them: each row's number in
the source's files and, per stage, whether the row is evidence and its time and value.

Built from the same stage plans (conditions, time and value expressions) and the same key
expression as the report query's layer 1 (sources.py), so a row is evidence here exactly when
the report's aggregate reads it as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from funnelcli.compile.funnel import Schema
from funnelcli.compile.resolve import Resolver, StagePlan, lost_condition, stage_plans
from funnelcli.compile.sources import row_key, source_rows
from funnelcli.spec import Funnel
from funnelcli.sql import ast as q

ROW = "__row"  # the row's 1-based number in the source's files (header not counted)


@dataclass(frozen=True)
class EvidenceQuery:
    """The query of one source's rows for one key, and which stages it can be evidence for."""

    source: str
    query: exp.Select
    stages: tuple[int, ...]  # 1-based stage indexes read from this source
    timed: tuple[bool, ...]  # per entry of `stages`: whether its evidence has a time
    valued: tuple[bool, ...]  # per entry of `stages`: whether it declares a value
    has_lost: bool


def evidence_queries(
    funnel: Funnel, schema: Schema, key: str, rows: dict[str, exp.Expr]
) -> list[EvidenceQuery]:
    """Per funnel source, its rows whose key is `key` (`rows[source]`: the source's rows with
    their number in its files as `__row`), with e<k>/t<k>/v<k> per stage it feeds and `lost`."""
    resolver = Resolver(funnel, schema)
    plans = stage_plans(funnel, resolver)
    lost = lost_condition(funnel, resolver)
    found = []
    for name in funnel.spec.funnel_sources:
        mine = [p for p in plans if p.source == name]
        body = source_rows(funnel, name, resolver, rows[name].copy())
        columns: list[exp.Expr] = [q.alias(q.col(ROW), ROW)]
        for plan in mine:
            columns += _stage(plan)
        has_lost = lost is not None and lost[0] == name
        if has_lost and lost is not None:
            columns.append(q.alias(exp.func("coalesce", lost[1].copy(), exp.false()), "lost"))
            columns.append(q.alias(q.ts(_lost_time(funnel, resolver, name, lost[1])), "lost_at"))
        match = exp.EQ(this=row_key(funnel, name, resolver), expression=exp.Literal.string(key))
        query = (
            exp.select(*columns, copy=False)
            .from_(body, copy=False)
            .where(match, copy=False)
            .order_by(q.col(ROW), copy=False)
        )
        found.append(
            EvidenceQuery(
                source=name,
                query=query,
                stages=tuple(p.index for p in mine),
                timed=tuple(p.time is not None for p in mine),
                valued=tuple(p.value is not None for p in mine),
                has_lost=has_lost,
            )
        )
    return found


def _lost_time(funnel: Funnel, resolver: Resolver, name: str, condition: exp.Expr) -> exp.Expr:
    """The time of a `lost:` row (its `lost.at`), null when the row is not lost evidence or
    `lost:` has no `at:` (untimed: never after an as-of)."""
    lost = funnel.spec.lost
    if lost is None or lost.at is None:
        return exp.null()
    time = resolver.time(name, resolver.column(name, lost.at, "lost.at"))
    return q.case(condition.copy(), time)


def _stage(plan: StagePlan) -> list[exp.Expr]:
    k = plan.index
    condition = exp.func("coalesce", plan.condition.copy(), exp.false())
    time = q.case(plan.condition.copy(), plan.time.copy()) if plan.time is not None else exp.null()
    value = q.case(plan.condition.copy(), plan.value.copy()) if plan.value is not None else None
    return [
        q.alias(condition, f"e{k}"),
        q.alias(q.ts(time), f"t{k}"),
        q.alias(exp.cast(value or exp.null(), "DOUBLE", copy=False), f"v{k}"),
    ]
