"""Renewals from the funnel's own stages (no contracts file): one query over the report's CTEs.

Customers of the entry cohort are *up for renewal* once their first period is over and the
grace has passed: revenue-stage time + contract_months + renewal_grace ≤ as_of. They renewed
when they reached the renewal stage; its value is the next period's amount (docs/money.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from funnelcli.compile import layers
from funnelcli.compile.columns import Layer
from funnelcli.compile.funnel import CompiledFunnel
from funnelcli.metrics.money import renewals_of_row
from funnelcli.outputs.report import NONE_GROUP
from funnelcli.outputs.roi import Renewals
from funnelcli.spec.duration import Duration
from funnelcli.sql import ast as q

TOTAL = None  # key of the blended row


def stage_renewal_query(
    compiled: CompiledFunnel,
    channel: str,
    revenue_stage: int,
    renewal_stage: int,
    contract_months: int,
    grace: Duration,
) -> exp.Select:
    """Per channel and in total: up for renewal, renewed and the amounts, from `scored`."""
    alias = compiled.columns.per_key(channel)
    cohort = layers.cohort()
    paid_at = q.col(Layer.qualified_time(revenue_stage))
    due = exp.Add(
        this=exp.Add(
            this=paid_at.copy(), expression=q.interval(Duration.parse(f"{contract_months}mo"))
        ),
        expression=q.interval(grace),
    )
    up = exp.and_(
        cohort,
        q.col(Layer.reached(revenue_stage)),
        q.not_null(paid_at.copy()),
        exp.LTE(this=due, expression=q.col(Layer.AS_OF)),
    )
    renewed = exp.and_(up.copy(), q.col(Layer.reached(renewal_stage)))
    exact = exp.DataType.build("DECIMAL(38, 6)")
    first = exp.cast(
        q.coalesce(q.col(Layer.qualified_value(revenue_stage)), exp.Literal.number(0)), exact
    )
    following = exp.cast(
        q.coalesce(q.col(Layer.qualified_value(renewal_stage)), exp.Literal.number(0)), exact
    )
    select = exp.select(
        q.alias(q.col(alias), "channel"),
        q.alias(q.count_if(up.copy()), "up"),
        q.alias(q.count_if(renewed.copy()), "renewed"),
        q.alias(q.filtered(exp.Sum(this=first.copy()), up.copy()), "amount_up"),
        q.alias(
            q.filtered(exp.Sum(this=q.least(first.copy(), following.copy())), renewed.copy()),
            "retained",
        ),
        q.alias(q.filtered(exp.Sum(this=following.copy()), renewed.copy()), "following"),
        q.alias(exp.func("grouping", q.col(alias)), "is_total"),
    ).from_(q.table(Layer.SCORED))
    select = select.group_by(
        exp.GroupingSets(
            expressions=[exp.Tuple(expressions=[]), exp.Tuple(expressions=[q.col(alias)])]
        )
    )
    with_ = compiled.query.args.get("with_")
    assert with_ is not None
    select.set("with_", with_.copy())
    return select


def stage_renewals(rows: Sequence[Mapping[str, Any]]) -> dict[str | None, Renewals]:
    """The query's rows as Renewals per channel (key None: blended)."""
    out: dict[str | None, Renewals] = {}
    for row in rows:
        key = None if row["is_total"] else str(row["channel"] or NONE_GROUP)
        out[key] = renewals_of_row(row)
    return out
