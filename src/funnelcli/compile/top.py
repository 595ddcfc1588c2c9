"""`--top N` (docs/semantics.md, Breakdowns): each breakdown attribute keeps the N values with
the most cohort entries (ties: the smaller value first); the rest are one group, `(other)`.
The fold is a column of `scored` beside the attribute, so groups, quantiles and every number
of `(other)` are computed over its keys, not added up from groups."""

from __future__ import annotations

from sqlglot import exp

from funnelcli.compile.columns import OTHER_GROUP, Layer, ResultColumns
from funnelcli.compile.layers import cohort
from funnelcli.sql import ast as q


def folded_columns(columns: ResultColumns, top: int) -> list[exp.Expr]:
    """For each folded attribute, its value when among its `top` biggest in the cohort (over
    `per_id`), else OTHER_GROUP."""
    found = []
    for name in sorted(columns.folded, key=list(columns.aliases).index):
        alias = columns.aliases[name]
        biggest = (
            exp.select(q.col(alias), copy=False)
            .from_(q.table(Layer.PER_ID), copy=False)
            .where(cohort(), copy=False)
            .group_by(q.col(alias), copy=False)
            .order_by(
                exp.Ordered(this=exp.Count(this=exp.Star()), desc=True),
                exp.Ordered(this=q.col(alias)),
                copy=False,
            )
            .limit(exp.Literal.number(top), copy=False)
        )
        kept = exp.In(this=q.col(alias), query=exp.Subquery(this=biggest))
        fold = (
            exp.Case().when(kept, q.col(alias), copy=False).else_(exp.Literal.string(OTHER_GROUP))
        )
        found.append(q.alias(fold, Layer.folded(alias)))
    return found
