"""Small sqlglot builders: every identifier quoted, every value a literal."""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from funnelcli.duration import Duration


def source_view(name: str) -> str:
    """The DuckDB view name a source is registered under."""
    return f"source_{name}"


def table(name: str) -> exp.Table:
    """A table or view reference by a quoted name."""
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def alias(expression: exp.Expression, name: str) -> exp.Alias:
    return exp.alias_(expression, name, quoted=True)


def ts(expression: exp.Expression) -> exp.Expression:
    return exp.cast(expression, "TIMESTAMP")


def utc_timestamp(column: exp.Expression) -> exp.Expression:
    """A column as a UTC timestamp: through TIMESTAMPTZ (the session is UTC), so text with an
    offset (`…+02:00`) is converted, and naive text, dates and timestamps are taken as UTC."""
    return exp.cast(exp.cast(column, "TIMESTAMPTZ"), "TIMESTAMP")


def ts_literal(moment: datetime) -> exp.Expression:
    return exp.cast(exp.Literal.string(moment.isoformat(sep=" ")), "TIMESTAMP")


def interval(duration: Duration) -> exp.Expression:
    if duration.months:
        return exp.Interval(this=exp.Literal.string(str(duration.months)), unit=exp.var("MONTH"))
    return exp.Interval(this=exp.Literal.string(str(duration.seconds)), unit=exp.var("SECOND"))


def and_(*conditions: exp.Expression | None) -> exp.Expression:
    present = [c for c in conditions if c is not None]
    return exp.and_(*present) if present else exp.true()


def or_(*conditions: exp.Expression | None) -> exp.Expression:
    present = [c for c in conditions if c is not None]
    return exp.or_(*present) if present else exp.false()


def case(condition: exp.Expression, then: exp.Expression) -> exp.Expression:
    return exp.Case().when(condition, then)


def filtered(aggregate: exp.Expression, condition: exp.Expression | None) -> exp.Expression:
    if condition is None:
        return aggregate
    return exp.Filter(this=aggregate, expression=exp.Where(this=condition))


def first_by(value: exp.Expression, *order: exp.Expression) -> exp.Expression:
    """first(value ORDER BY order..., value): deterministic even when the order ties."""
    keys = [exp.Ordered(this=o, nulls_first=False) for o in (*order, value)]
    return exp.First(this=exp.Order(this=value, expressions=keys))


def epoch(expression: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="epoch", expressions=[expression])


def first_element(array: exp.Expression) -> exp.Expression:
    # list_extract, not a bracket: sqlglot shifts bracket indexes between dialects.
    return exp.Anonymous(this="list_extract", expressions=[array, exp.Literal.number(1)])


def count_if(condition: exp.Expression) -> exp.Expression:
    return filtered(exp.Count(this=exp.Star()), condition)


def coalesce(*expressions: exp.Expression) -> exp.Expression:
    if len(expressions) == 1:
        return expressions[0]
    return exp.Coalesce(this=expressions[0], expressions=list(expressions[1:]))
