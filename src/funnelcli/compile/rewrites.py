"""Execution tactics as pure rewrites of a compiled report query, in the style of sqlglot's
optimizer rules: each takes a CompiledFunnel and returns a new one (the input is never
changed), the same report by construction. commands/query.py decides which apply (a plan).

- `read_per_row`: a source known to have one row per key needs no GROUP BY in layer 1 (at
  10M rows about half of a report): each aggregate of one row is written as that row's value.
- `check_keys`: read sources per row *on trust*, with each one's key check (`distinct_keys`)
  computed in the same query, over the same scan (its per-row layer 1, which DuckDB streams
  to both); a false check voids the result (QueryResult.stands).
- `anchor_at`: the default maturity anchor found by a first pass (CompiledFunnel.anchor_query)
  given as a literal, so no layer is read twice (over copies read per row: 0.4 instead of
  1.3 GiB at 10M rows).
- `share_window_end`: `entry_at + <window>` computed once per key in `ev` instead of in every
  stage's bounds and in `scored` (4% of a 1M-row report's query).
- `materialize`: with a literal anchor nothing forces DuckDB to keep the per-key layer both
  aggregates read, and it computes it twice (from a CSV: two parses and two GROUP BYs);
  MATERIALIZED keeps it once. Not for layers read per row from copies, which stream.

benchmarks/RESULTS.md has the measurements behind each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlglot import exp

from funnelcli.compile.columns import Layer
from funnelcli.compile.funnel import CompiledFunnel
from funnelcli.sql import ast as q

KEY_CHECK = "distinct"  # the one column of key_check()


def per_row(aggregate: exp.Select) -> exp.Select | None:
    """Layer 1 without its GROUP BY, for a source whose keys are distinct (each group is one
    row): each aggregate of one row written as that row's value. The same columns, types and
    values; None when an aggregate has no such rewrite here (then the GROUP BY stays), or when
    the rows come from a join (lookups, the account mapping), which could repeat a row."""
    if not isinstance(aggregate.args["from_"].this, exp.Table):
        return None
    columns = []
    for column in aggregate.expressions:
        if not isinstance(column, exp.Alias):
            return None
        value = _one_row_value(column.this)
        if value is None or any(isinstance(n, exp.AggFunc) for n in value.walk()):
            return None
        columns.append(exp.alias_(value, column.alias, quoted=True, copy=False))
    select = aggregate.copy()
    select.set("expressions", columns)
    select.set("group", None)
    return select


def _one_row_value(aggregate: exp.Expr) -> exp.Expr | None:
    """What `aggregate` gives over a group of exactly one row, as an expression of that row:
    count(*) → 1; min/max/bool_or(x) → x; array_agg(x) → [x]; with FILTER (WHERE c) only
    where c holds (count: 0 elsewhere, others NULL, as over zero rows); min(struct).field →
    the row's field."""
    field = None
    if isinstance(aggregate, exp.Dot):  # first_by: min({…}).v
        field = aggregate.expression
        aggregate = aggregate.this
    condition = None
    if isinstance(aggregate, exp.Filter):
        condition = aggregate.expression.this
        aggregate = aggregate.this
    if isinstance(aggregate, exp.Count) and isinstance(aggregate.this, exp.Star) and not field:
        one = exp.Literal.number(1)
        counted = (
            one
            if condition is None
            else exp.Case().when(condition.copy(), one, copy=False).else_(exp.Literal.number(0))
        )
        return exp.cast(counted, "BIGINT", copy=False)
    if isinstance(aggregate, exp.ArrayAgg) and field is None:  # an exclude: item's times
        listed = exp.Array(expressions=[aggregate.this.copy()])
        return listed if condition is None else q.case(condition.copy(), listed)
    if not isinstance(aggregate, (exp.Min, exp.Max, exp.LogicalOr)):
        # A plain expression (the key) is kept: per_row refuses any aggregate left in it.
        return aggregate.copy() if field is None and condition is None else None
    value: exp.Expr = aggregate.this.copy()
    if field is not None:
        value = _field(value, field.name)
    return value if condition is None else q.case(condition.copy(), value)


def _field(struct: exp.Expr, name: str) -> exp.Expr:
    """Field `name` of `struct`: the field's own expression when `struct` is written out
    ({'o0': …, 'v': x} gives x: DuckDB would build each row's struct only to take x out
    again, 4% of a 1M-row report), else struct_extract."""
    if isinstance(struct, exp.Struct):
        for item in struct.expressions:
            if isinstance(item, exp.PropertyEQ) and item.this.name == name:
                field: exp.Expr = item.expression
                return field
    return exp.func("struct_extract", struct, exp.Literal.string(name))


def per_row_candidates(compiled: CompiledFunnel) -> tuple[str, ...]:
    """The sources whose layer 1 `read_per_row` can rewrite (when their keys are distinct)."""
    return tuple(
        source
        for i, source in enumerate(compiled.source_names)
        if per_row(_cte(compiled.query, Layer.source(i))) is not None
    )


def read_per_row(
    compiled: CompiledFunnel, sources: Iterable[str], *, copy: bool = True
) -> CompiledFunnel:
    """`compiled` with the layer 1 of `sources` (known to have one row per key) per row.
    `copy=False` rewrites the query in place (a plan that copied it once already)."""
    query = compiled.query.copy() if copy else compiled.query
    for source in sources:
        name = Layer.source(compiled.source_names.index(source))
        rewritten = per_row(_cte(query, name))
        if rewritten is not None:
            _set_cte(query, name, rewritten)
    return replace(compiled, query=query)


def distinct_keys(key: exp.Expr) -> exp.Expr:
    """Whether every row has a `key` and no two share one, as an aggregate over the rows:
    `COUNT(DISTINCT hash(key)) FILTER (WHERE key IS NOT NULL) = COUNT(*)`. Equal keys have
    equal hashes, so true proves it; two keys that share a 64-bit hash make it false, which
    only sends the report to the GROUP BY (always right). A hash table of 64-bit integers, not
    of the key texts: at 10M rows a fraction of the time and memory of COUNT(DISTINCT key).
    (sqlglot has no typed node for DuckDB's `hash`.)"""
    hashed = exp.Anonymous(this="hash", expressions=[key.copy()])
    counted = q.filtered(exp.Count(this=exp.Distinct(expressions=[hashed])), q.not_null(key))
    return exp.EQ(this=counted, expression=exp.Count(this=exp.Star()))


def key_check(compiled: CompiledFunnel, source: str, head: int | None = None) -> exp.Select:
    """One row, column `distinct`: whether every row of a per-row candidate source (of its
    first `head` rows) has a key and no two share one. Then its layer 1 is its rows."""
    aggregate = _cte(compiled.query, Layer.source(compiled.source_names.index(source)))
    key = aggregate.args["group"].expressions[0].copy()
    rows: exp.Expr = aggregate.args["from_"].this.copy()
    if head is not None:
        first = exp.select(exp.Star(), copy=False).from_(rows, copy=False).limit(head, copy=False)
        rows = exp.Subquery(this=first, alias=exp.TableAlias(this=exp.to_identifier("head")))
    check = q.alias(distinct_keys(key), KEY_CHECK)
    return exp.select(check, copy=False).from_(rows, copy=False)


def check_keys(
    compiled: CompiledFunnel, sources: Iterable[str], *, copy: bool = True
) -> CompiledFunnel:
    """`sources` read per row on trust, each one's key check an output column of the query,
    computed over its layer 1 once that is per row (so the source is scanned once)."""
    wanted = [s for s in compiled.source_names if s in set(sources)]
    checks = []
    for source in wanted:
        layer = Layer.source(compiled.source_names.index(source))
        distinct = q.alias(distinct_keys(q.col(Layer.KEY)), KEY_CHECK)
        over_layer = exp.select(distinct, copy=False).from_(q.table(layer), copy=False)
        checks.append((source, exp.Subquery(this=over_layer)))
    rewritten = read_per_row(compiled, wanted, copy=copy)
    columns = replace(compiled.columns, checks=(*compiled.columns.checks, *wanted))
    for source, check in checks:
        rewritten.query.select(q.alias(check, columns.check(source)), append=True, copy=False)
    return replace(rewritten, columns=columns)


def anchor_at(compiled: CompiledFunnel, as_of: datetime, *, copy: bool = True) -> CompiledFunnel:
    """`compiled` with the maturity anchor `as_of` (a first pass's anchor_query result) as a
    literal instead of the subquery over the per-key layer."""
    query = compiled.query.copy() if copy else compiled.query
    body = _cte(query, Layer.SCORED)

    def literal(node: exp.Expr) -> exp.Expr:
        # scored reads the anchor as CAST((subquery) AS TIMESTAMP): that whole cast goes.
        if isinstance(node, exp.Cast) and isinstance(node.this, exp.Subquery):
            return q.ts_literal(as_of)
        return node

    anchored = body.transform(literal, copy=False)
    assert isinstance(anchored, exp.Select)
    _set_cte(query, Layer.SCORED, anchored)
    return replace(compiled, query=query)


WINDOW_END = "window_end"  # the column share_window_end adds to `ev`


def share_window_end(compiled: CompiledFunnel, *, copy: bool = True) -> CompiledFunnel:
    """`compiled` with each `entry_at + INTERVAL …` that the later per-key layers compute
    (the window's bound in every stage, maturity in `scored`) read from one column of `ev`
    (`window_end`, `window_end_2` for a second interval such as a horizon). The same values:
    the column is that expression of the same row."""
    query = compiled.query.copy() if copy else compiled.query
    entered = _cte(query, Layer.ENTERED)
    found = {c.alias: c.this for c in entered.expressions if isinstance(c, exp.Alias)}
    entry = found.get(Layer.ENTRY)
    if entry is None:
        return replace(compiled, query=query)
    stages = {Layer.stage(k) for k in range(1, len(compiled.stage_names) + 1)}
    after = {*stages, Layer.PER_ID, Layer.SCORED}  # the per-key layers that read `ev`
    later = [cte.this for cte in query.args["with_"].expressions if cte.alias in after]
    names: dict[str, str] = {}  # the interval's SQL → its column

    def shared(node: exp.Expr) -> exp.Expr:
        if not (
            isinstance(node, exp.Add)
            and isinstance(node.this, exp.Column)
            and node.this.name == Layer.ENTRY
            and not node.this.table
            and isinstance(node.expression, exp.Interval)
        ):
            return node
        text = node.expression.sql(dialect="duckdb")
        if text not in names:
            name = WINDOW_END if not names else f"{WINDOW_END}_{len(names) + 1}"
            names[text] = name
            end = exp.Add(this=entry.copy(), expression=node.expression.copy())
            entered.select(q.alias(end, name), append=True, copy=False)
        return q.col(names[text])

    for body in later:
        body.transform(shared, copy=False)
    return replace(compiled, query=query)


def materialize(compiled: CompiledFunnel, *, copy: bool = True) -> CompiledFunnel:
    """`compiled` with the per-key layer `scored` computed once (MATERIALIZED)."""
    query = compiled.query.copy() if copy else compiled.query
    for cte in query.args["with_"].expressions:
        if cte.alias == Layer.SCORED:
            cte.set("materialized", True)
    return replace(compiled, query=query)


def _cte(query: exp.Select, name: str) -> exp.Select:
    for cte in query.args["with_"].expressions:
        if cte.alias == name:
            body = cte.this
            assert isinstance(body, exp.Select)
            return body
    raise KeyError(name)


def _set_cte(query: exp.Select, name: str, body: exp.Select) -> None:
    for cte in query.args["with_"].expressions:
        if cte.alias == name:
            cte.set("this", body)
            return
    raise KeyError(name)
