"""The inputs of the `funnel risk` query as typed sqlglot CTE bodies (docs/risk.md): usage
summed per account and week on one grid, the metrics, the signal tests, the weeks, the as-of
dates and the touches. Pure: the names of the views' columns come from commands/risk_inputs.py.

The week grid: week `w` holds the days [anchor − 7(w+1), anchor − 7w), so week 0 is the
7 days before the latest as-of date (`anchor`, exclusive). Every as-of date of one query lies a
whole number of weeks before the anchor (`shift` weeks), so one pass over the usage file sums
every week that any as-of date reads: for that date, week `w` is its week `w − shift`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlglot import exp

from funnelcli.spec.risk import RiskSpec
from funnelcli.sql import ast as q
from funnelcli.sql.ast import source_view

USAGE = "risk_usage"  # the engine views of risk.usage and risk.touches
TOUCHES = "risk_touches"


@dataclass(frozen=True)
class UsageColumns:
    """The usage view's columns: account, time, and per metric its column (wide) or the
    metric and value columns (long)."""

    account: str
    time: str
    metrics: tuple[tuple[str, str], ...]  # (metric name, wide column or long metric value)
    metric: str | None = None  # long only
    value: str | None = None


@dataclass(frozen=True)
class AsOf:
    """One as-of date: `day` (evidence of the days before it counts), the instant `at`
    (touches up to it count), and how many weeks before the query's anchor it lies."""

    day: date
    at: datetime
    shift: int


def date_literal(day: date) -> exp.Expr:
    return exp.cast(exp.Literal.string(day.isoformat()), "DATE")


def number(value: float | int) -> exp.Expr:
    return exp.Literal.number(value)


def days_between(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    """Whole days from `start` to `end` (dates)."""
    return exp.DateDiff(this=end, expression=start, unit=exp.var("DAY"))


def as_number(raw: str) -> exp.Expr:
    """A usage value as a number (NULL when empty or not one: checked before the query)."""
    return exp.TryCast(this=exp.cast(q.col(raw), "VARCHAR"), to=exp.DataType.build("DOUBLE"))


def value_checks(columns: UsageColumns) -> list[tuple[str, str, exp.Expr]]:
    """(column, what it must be, the condition that a row breaks it) for every usage value:
    a number (when not empty), never negative; in a long file, only the declared metrics'."""
    if columns.metric is None:
        values = [column for _, column in columns.metrics]
        declared: exp.Expr | None = None
    else:
        assert columns.value is not None
        values = [columns.value]
        wanted = [exp.Literal.string(column) for _, column in columns.metrics]
        declared = exp.cast(q.col(columns.metric), "VARCHAR").isin(*wanted)
    checks: list[tuple[str, str, exp.Expr]] = []
    for raw in values:
        text = exp.func("trim", exp.cast(q.col(raw), "VARCHAR"))
        unreadable = q.and_(
            q.not_null(q.col(raw)),
            q.is_null(as_number(raw)),
            exp.NEQ(this=text, expression=exp.Literal.string("")),
            declared.copy() if declared is not None else None,
        )
        negative = q.and_(
            exp.LT(this=as_number(raw), expression=number(0)),
            declared.copy() if declared is not None else None,
        )
        checks.append((raw, "a number", unreadable))
        checks.append((raw, "a usage value (it is negative; usage is never below zero)", negative))
    return checks


def usage_weeks(risk: RiskSpec, columns: UsageColumns, anchor: date) -> exp.Select:
    """account, w, first_day and one column m0, m1, … per metric: each week's sum (counts)
    or mean of the days with a row (levels), for the days before `anchor`; `bad`: the rows
    with a value that is not a number or is negative (value_checks), counted in the same
    pass so that the file is read once."""
    usage = risk.usage
    first = exp.cast(q.col(columns.time), "DATE")
    # A weekly row is complete on its week's last day: it counts in the week holding that day.
    day = exp.Add(this=first.copy(), expression=number(6)) if usage.every == "week" else first
    week = exp.IntDiv(
        this=exp.Paren(
            this=exp.Sub(this=days_between(day.copy(), date_literal(anchor)), expression=number(1))
        ),
        expression=number(7),
    )
    account = exp.cast(q.col(columns.account), "VARCHAR")
    values = []
    for index, (name, column) in enumerate(columns.metrics):
        kind = usage.metrics[name].kind
        if columns.metric is None:
            value = as_number(column)
        else:
            assert columns.value is not None
            is_metric = exp.EQ(
                this=exp.cast(q.col(columns.metric), "VARCHAR"),
                expression=exp.Literal.string(column),
            )
            value = exp.If(this=is_metric, true=as_number(columns.value))
        aggregate = exp.Avg(this=value) if kind == "level" else exp.Sum(this=value)
        values.append(q.alias(aggregate, f"m{index}"))
    where = q.and_(
        q.not_null(q.col(columns.account)),
        q.not_null(q.col(columns.time)),
        exp.LT(this=day.copy(), expression=date_literal(anchor)),
    )
    if columns.metric is not None:
        wanted = [exp.Literal.string(column) for _, column in columns.metrics]
        where = q.and_(where, exp.cast(q.col(columns.metric), "VARCHAR").isin(*wanted))
    return (
        exp.select(
            q.alias(account, "account"),
            q.alias(week, "w"),
            q.alias(exp.Min(this=first.copy()), "first_day"),
            *values,
            q.alias(q.count_if(q.or_(*[bad for _, _, bad in value_checks(columns)])), "bad"),
        )
        .from_(q.table(source_view(USAGE)))
        .where(where)
        .group_by(exp.Literal.number(1), exp.Literal.number(2))
    )


def long_weeks(columns: UsageColumns) -> exp.Query:
    """usage_weeks with one row per metric: account, w, metric, value."""
    parts: list[exp.Select] = [
        exp.select(
            q.col("account"),
            q.col("w"),
            q.alias(exp.Literal.string(name), "metric"),
            q.alias(q.col(f"m{index}"), "value"),
        ).from_(q.table("usage_weeks"))
        for index, (name, _) in enumerate(columns.metrics)
    ]
    union: exp.Query = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    return union


def values_table(names: Sequence[str], rows: Sequence[Sequence[exp.Expr]]) -> exp.Select:
    """A small constant table as SELECT … UNION ALL (typed literals; an empty one selects
    typed NULLs WHERE FALSE)."""
    if not rows:
        nulls = [q.alias(exp.cast(exp.null(), "VARCHAR"), n) for n in names]
        return exp.select(*nulls).where(exp.false())
    values = exp.values(
        [exp.Tuple(expressions=list(row)) for row in rows], alias="v", columns=names
    )
    return exp.select(*[q.col(n) for n in names]).from_(values)


def metrics_table(risk: RiskSpec, columns: UsageColumns) -> exp.Select:
    """metric, kind."""
    kinds = risk.usage.metrics
    return values_table(
        ["metric", "kind"],
        [
            [exp.Literal.string(name), exp.Literal.string(kinds[name].kind)]
            for name, _ in columns.metrics
        ],
    )


def tests_table(risk: RiskSpec) -> exp.Select:
    """signal, metric, kind, recent_weeks, baseline_weeks: the drop and spike tests."""
    rows = []
    for signal, spec in (("drop", risk.signals.drop), ("spike", risk.signals.spike)):
        for metric in spec.metrics:
            rows.append(
                [
                    exp.Literal.string(signal),
                    exp.Literal.string(metric),
                    exp.Literal.string(risk.usage.metrics[metric].kind),
                    number(spec.window.seconds // (7 * 86400)),
                    number(spec.baseline.seconds // (7 * 86400)),
                ]
            )
    return values_table(["signal", "metric", "kind", "recent_weeks", "baseline_weeks"], rows)


def contraction_table(risk: RiskSpec) -> exp.Select:
    """metric, kind: the metrics of the contraction signal."""
    return values_table(
        ["metric", "kind"],
        [
            [exp.Literal.string(m), exp.Literal.string(risk.usage.metrics[m].kind)]
            for m in risk.signals.contraction.metrics
        ],
    )


def weeks_table(count: int) -> exp.Select:
    """bucket: 0 … count − 1."""
    return values_table(["bucket"], [[number(i)] for i in range(count)])


def as_of_table(dates: Sequence[AsOf]) -> exp.Select:
    """shift, as_of (DATE), at (TIMESTAMP)."""
    return values_table(
        ["shift", "as_of", "at"],
        [[number(d.shift), date_literal(d.day), q.ts_literal(d.at)] for d in dates],
    )


def touches_table(account: str | None, time: str | None) -> exp.Select:
    """account, at: the touches view's rows with both (none without a touches file)."""
    if account is None or time is None:
        return exp.select(
            q.alias(exp.cast(exp.null(), "VARCHAR"), "account"),
            q.alias(exp.cast(exp.null(), "TIMESTAMP"), "at"),
        ).where(exp.false())
    return (
        exp.select(
            q.alias(exp.cast(q.col(account), "VARCHAR"), "account"),
            q.alias(exp.cast(q.col(time), "TIMESTAMP"), "at"),
        )
        .from_(q.table(source_view(TOUCHES)))
        .where(q.and_(q.not_null(q.col(account)), q.not_null(q.col(time))))
    )
