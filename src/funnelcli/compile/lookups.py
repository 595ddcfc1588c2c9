"""Lookup sources (`shape: lookup`): attributes joined on a funnel column, as sqlglot ASTs.

A lookup such as `sales_teams.csv` keyed by `sales_agent` adds its columns (`manager`,
`regional_office`) as attributes of the funnel source that has the `join:` column, so `--by` and
`filter:` can use them. The join is a LEFT JOIN on a de-duplicated lookup (one row per key, the
smallest value of each column), so it never adds or drops a row of the funnel source. Funnel
values that match no key are counted by `unmatched_query` for the data-quality section.
Pure: no I/O (docs/real-data.md describes the YAML).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp

from funnelcli.spec import Funnel
from funnelcli.spec.hints import closest, did_you_mean, find
from funnelcli.sql import ast as q
from funnelcli.sql.ast import source_view
from funnelcli.sql.tables import origin

LOOKUP_KEY = "__lookup_key"


@dataclass(frozen=True)
class LookupJoin:
    """One lookup: which funnel source and column it joins on, and its raw key column."""

    name: str
    base: str  # the first funnel source that has the `join:` column
    on_column: str  # raw header of `join:` in base
    key_column: str  # raw header of `key:` in the lookup
    spelling: Mapping[str, str]  # `map:` funnel value → lookup key


def lookup_joins(
    funnel: Funnel, headers: Mapping[str, Sequence[str] | Mapping[str, str]]
) -> dict[str, LookupJoin]:
    """Resolve every declared lookup against the sources' headers (errors name the YAML key)."""
    spec = funnel.spec
    joins: dict[str, LookupJoin] = {}
    for name in spec.lookup_sources:
        source = spec.sources[name]
        assert source.key is not None and source.join is not None
        key_column = source.column(source.key)
        own = headers.get(name)
        if own is not None:
            found = find(key_column, own)
            if found is None:
                raise funnel.error(
                    f"sources.{name}.key",
                    f"column '{source.key}' not found in {origin(source)}"
                    + did_you_mean(key_column, list(own), guess=closest(key_column, list(own))),
                )
            key_column = found
        base = None
        for candidate in spec.funnel_sources:
            raw = find(spec.sources[candidate].column(source.join), headers.get(candidate, ()))
            if raw is not None:
                base = (candidate, raw)
                break
        if base is None:
            if not headers:  # compiled without headers (tests of pure SQL): trust the YAML
                base = (spec.primary_source, source.join)
            else:
                every = sorted({h for s in spec.funnel_sources for h in headers.get(s, ())})
                hint = did_you_mean(source.join, every, guess=closest(source.join, every))
                raise funnel.error(
                    f"sources.{name}.join",
                    f"column '{source.join}' not found in any funnel source{hint}",
                )
        joins[name] = LookupJoin(name, base[0], base[1], key_column, dict(source.map))
    return joins


def mapped_value(join: LookupJoin, column: exp.Expr) -> exp.Expr:
    """The funnel-side join value as text, with `map:` spellings rewritten."""
    text = exp.cast(column, "VARCHAR")
    if not join.spelling:
        return text
    ifs = [
        exp.If(this=exp.Literal.string(raw), true=exp.Literal.string(fixed))
        for raw, fixed in join.spelling.items()
    ]
    return exp.Case(this=text, ifs=ifs, default=text.copy())


def _keyed_lookup(join: LookupJoin, columns: Mapping[str, str]) -> exp.Select:
    """One row per lookup key: `columns` maps output alias → raw lookup header."""
    key = exp.cast(q.col(join.key_column), "VARCHAR")
    selected = [q.alias(key, LOOKUP_KEY)]
    for alias, raw in columns.items():
        selected.append(q.alias(exp.Min(this=exp.cast(q.col(raw), "VARCHAR")), alias))
    return (
        exp.select(*selected)
        .from_(q.table(source_view(join.name)))
        .where(q.not_null(q.col(join.key_column)))
        .group_by(key.copy())
    )


def join_lookups(rows: exp.Expr, joins: Sequence[tuple[LookupJoin, Mapping[str, str]]]) -> exp.Expr:
    """`rows` (a funnel source) with each lookup's columns LEFT JOINed on, as table `s`."""
    if not joins:
        return rows
    inner = exp.Subquery(this=exp.select(exp.Star()).from_(rows))
    columns: list[exp.Expr] = [exp.Star()]
    for i, (_join, wanted) in enumerate(joins):
        columns += [q.alias(q.col(alias, f"lk_{i}"), alias) for alias in wanted]
    select = exp.select(*columns).from_(exp.alias_(inner, "b", table=True))
    for i, (join, wanted) in enumerate(joins):
        on_value = mapped_value(join, q.col(join.on_column, "b"))
        select = select.join(
            exp.alias_(exp.Subquery(this=_keyed_lookup(join, wanted)), f"lk_{i}", table=True),
            on=exp.EQ(this=on_value, expression=q.col(LOOKUP_KEY, f"lk_{i}")),
            join_type="LEFT",
        )
    # Only the aliased lookup columns may leave: `b.*` then lk_i.<alias> (no key column).
    b_star = exp.Column(this=exp.Star(), table=exp.to_identifier("b", quoted=True))
    select.set("expressions", [b_star, *columns[1:]])
    return exp.alias_(exp.Subquery(this=select), "s", table=True)


def unmatched_query(funnel: Funnel, join: LookupJoin) -> exp.Select:
    """Funnel values of `join:` that match no lookup key: value, rows, distinct ids."""
    base = funnel.spec.sources[join.base]
    on = q.col(join.on_column)
    keys = (
        exp.select(exp.cast(q.col(join.key_column), "VARCHAR"))
        .from_(q.table(source_view(join.name)))
        .where(q.not_null(q.col(join.key_column)))
    )
    value = exp.cast(on.copy(), "VARCHAR")
    return (
        exp.select(
            q.alias(value, "value"),
            q.alias(exp.Count(this=exp.Star()), "rows"),
            q.alias(
                exp.Count(
                    this=exp.Distinct(expressions=[exp.cast(q.col(base.id_column), "VARCHAR")])
                ),
                "ids",
            ),
        )
        .from_(q.table(source_view(join.base)))
        .where(
            exp.and_(
                q.not_null(on.copy()),
                exp.Not(
                    this=exp.In(this=mapped_value(join, on.copy()), query=exp.Subquery(this=keys))
                ),
            )
        )
        .group_by(value.copy())
        .order_by(exp.Ordered(this=q.col("rows"), desc=True), q.col("value"))
    )
