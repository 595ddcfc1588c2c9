"""Spec → one DuckDB SELECT as a sqlglot AST. Pure: same funnel and options in, same SQL out.

The query has four layers (DESIGN.md §3 is the contract; docs/semantics.md explains it):

1. `agg_<i>`: one scan of each source, grouped by the funnel key (lead id, or account at account
   grain): per stage the earliest evidence time (or, for strict funnels on long sources, the
   sorted list of evidence times), its value, and the attributes as of the key's first row.
2. `ids`: the sources full-outer-joined on the key.
3. `q_<k>`: one projection per stage that applies the window, `within:` and the order policy to
   pick the stage's earliest *qualifying* time, then `per_id` the reached flags under backfill.
4. The final aggregate: one GROUPING SETS pass for the cohort and every breakdown, with the
   data-quality counts riding along.

User text never reaches the SQL as text: columns are quoted identifiers, values are literals,
conditions are allow-listed ASTs (see expressions.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlglot import exp

from funnelcli.compile.lookups import LookupJoin, join_lookups, lookup_joins
from funnelcli.compile.resolve import (
    Resolver,
    StagePlan,
    attribute_names,
    lost_condition,
    stage_plans,
)
from funnelcli.outputs.report import NONE_GROUP
from funnelcli.spec import Funnel, Grain, Order, Shape
from funnelcli.spec.duration import Duration
from funnelcli.sql import ast as q
from funnelcli.sql.ast import source_view, table

__all__ = ["CompiledFunnel", "ReportQuery", "compile_funnel", "source_view", "table"]

KEY = "key"
PERIOD_KEY = "__entry_period"  # the pseudo attribute of ReportQuery.periods in breakdowns
PERIOD_COLUMN = "entry_period"
QUANTILES = (0.5, 0.9)  # the time-to-stage quantiles reported (p50, p90)
ROWS = "rows"
LATEST = "latest"


@dataclass(frozen=True)
class ReportQuery:
    """The options that shape a report's SQL (everything else comes from the spec)."""

    since: datetime | None = None
    until: datetime | None = None
    as_of: datetime | None = None
    breakdowns: tuple[tuple[str, ...], ...] = ()
    # Entry periods [since, until) (UTC, non-overlapping): when given, the cohort is the ids
    # entering in one of them, and every group is also split by period (group PERIOD_KEY =
    # the period's index), so summaries and cohort matrices need one query, not one per period.
    periods: tuple[tuple[datetime, datetime], ...] = ()
    # Attributes (among the breakdowns) whose every value, over all ids read and not only the
    # cohort, is listed on each row (CompiledFunnel.value_lists): funnel roi tells a channel
    # without leads in the period from a spend channel no lead carries.
    known_values: tuple[str, ...] = ()


_Headers = Mapping[str, Sequence[str] | Mapping[str, str]]


@dataclass(frozen=True)
class CompiledFunnel:
    """The report query and what its output columns mean."""

    query: exp.Select
    stage_names: tuple[str, ...]
    breakdowns: tuple[tuple[str, ...], ...]
    group_columns: dict[str, str]  # attribute name → output column holding its group value
    source_names: tuple[str, ...]
    typed_columns: tuple[tuple[str, str, str], ...]  # (source, raw header, SQL type) cast by us
    value_lists: dict[str, str] = field(default_factory=dict)  # ReportQuery.known_values
    # Sources whose layer 1 can be computed row by row when their keys are distinct (see
    # unique_key_check), and those this query does compute that way.
    per_row_candidates: tuple[str, ...] = ()
    per_row: tuple[str, ...] = ()
    latest_columns: tuple[str, ...] = ()  # per-key columns of layer 2 the default as_of is of
    # Sources read per row on trust: output column → the source whose one-row-per-key check
    # it holds (unique_key_check, as a scalar subquery). A false one voids the result.
    checks: dict[str, str] = field(default_factory=dict)

    def sql(self, *, pretty: bool = True, dialect: str = "duckdb") -> str:
        return self.query.sql(dialect=dialect, pretty=pretty)

    def anchor(self) -> exp.Select:
        """Only the default maturity anchor (column `as_of`: the latest evidence time of any
        keyed row), over the same layers: a first pass whose result, given back as --as-of,
        makes the same report, in which no layer is read twice."""
        select = _anchor(self.latest_columns)
        (value,) = select.expressions
        select.set("expressions", [q.alias(q.ts(value), "as_of")])
        select.set("with_", self.query.args["with_"].copy())
        return select

    def anchors(self) -> exp.Select:
        """Only the maturity anchor (as_of) and the cohort's first entry, over the same layers:
        what summaries and cohort matrices need before choosing their periods, without the
        stage aggregates (DuckDB skips the layers this does not read)."""
        first = q.filtered(exp.Min(this=q.col("entry_at")), _cohort())
        select = exp.select(
            q.alias(exp.Max(this=q.col("as_of")), "as_of"),
            q.alias(first, "first_entry"),
            *self._check_columns(),
        ).from_(q.table("scored"))
        select.set("with_", self.query.args["with_"].copy())
        return select

    def _check_columns(self) -> list[exp.Expr]:
        """The checks of the sources read per row on trust, as output columns."""
        found = {e.alias_or_name: e for e in self.query.expressions}
        return [found[column].copy() for column in self.checks]


def _key_expression(funnel: Funnel, source_name: str, resolver: Resolver) -> exp.Expr:
    spec = funnel.spec
    source = spec.sources[source_name]
    if spec.grain is Grain.account and source.account is not None:
        raw = resolver.column(source_name, source.account, f"sources.{source_name}.account")
    else:
        raw = resolver.column(source_name, source.id_column, f"sources.{source_name}.id")
    return exp.cast(q.col(raw), "VARCHAR")


def _source_from(funnel: Funnel, source_name: str, resolver: Resolver) -> exp.Expr:
    """The rows of a source; at account grain, a source without account: maps its ids via the
    first source's id → account pairs (the smallest account when an id has several)."""
    spec = funnel.spec
    view = q.table(source_view(source_name))
    source = spec.sources[source_name]
    if spec.grain is Grain.lead or source.account is not None:
        return view
    primary = spec.primary_source
    primary_spec = spec.sources[primary]
    assert primary_spec.account is not None
    pid = resolver.column(primary, primary_spec.id_column, f"sources.{primary}.id")
    pacc = resolver.column(primary, primary_spec.account, f"sources.{primary}.account")
    mapping = (
        exp.select(
            q.alias(exp.cast(q.col(pid), "VARCHAR"), "map_id"),
            q.alias(exp.Min(this=exp.cast(q.col(pacc), "VARCHAR")), "map_account"),
        )
        .from_(q.table(source_view(primary)))
        .group_by(exp.cast(q.col(pid), "VARCHAR"))
    )
    sid = resolver.column(source_name, source.id_column, f"sources.{source_name}.id")
    joined = (
        exp.select(exp.Star(), q.alias(q.col("map_account", "m"), "__account"))
        .from_(exp.alias_(view, "s", table=True))
        .join(
            exp.alias_(exp.Subquery(this=mapping), "m", table=True),
            on=exp.EQ(this=exp.cast(q.col(sid, "s"), "VARCHAR"), expression=q.col("map_id", "m")),
            join_type="LEFT",
        )
    )
    return exp.alias_(exp.Subquery(this=joined), "s", table=True)


def unique_key_check(
    funnel: Funnel, source_name: str, headers: _Headers, head: int | None = None
) -> exp.Select:
    """One row, column `distinct`: whether every row of the source (of its first `head` rows)
    has a key (its id, or its account at account grain) and no two share one. Then its layer 1
    is its rows."""
    key = _key_expression(funnel, source_name, Resolver(funnel, headers))
    distinct = exp.EQ(
        this=exp.Count(this=exp.Distinct(expressions=[key])), expression=exp.Count(this=exp.Star())
    )
    rows: exp.Expr = q.table(source_view(source_name))
    if head is not None:
        first = exp.select(exp.Star()).from_(rows).limit(head)
        rows = exp.Subquery(this=first, alias=exp.TableAlias(this=exp.to_identifier("head")))
    return exp.select(q.alias(distinct, "distinct")).from_(rows)


def _per_row(aggregate: exp.Select) -> exp.Select | None:
    """Layer 1 without its GROUP BY, for a source whose keys are distinct (each group is one
    row): each aggregate of one row written as that row's value. The same columns, types and
    values; None when an aggregate has no such rewrite here (then the GROUP BY stays)."""
    columns = []
    for column in aggregate.expressions:
        if not isinstance(column, exp.Alias):
            return None
        value = _one_row_value(column.this)
        if value is None or any(isinstance(n, exp.AggFunc) for n in value.walk()):
            return None
        columns.append(exp.alias_(value, column.alias, quoted=True))
    select = aggregate.copy()
    select.set("expressions", columns)
    select.set("group", None)
    return select


def _one_row_value(aggregate: exp.Expr) -> exp.Expr | None:
    """What `aggregate` gives over a group of exactly one row, as an expression of that row:
    count(*) → 1; min/max/bool_or(x) → x; with FILTER (WHERE c) only where c holds (count: 0
    elsewhere, others NULL, as over zero rows); min(struct).field → the row's field."""
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
            else exp.Case().when(condition.copy(), one).else_(exp.Literal.number(0))
        )
        return exp.cast(counted, "BIGINT")
    if not isinstance(aggregate, (exp.Min, exp.Max, exp.LogicalOr)):
        # A plain expression (the key) is kept: _per_row refuses any aggregate left in it.
        return aggregate.copy() if field is None and condition is None else None
    value: exp.Expr = aggregate.this.copy()
    if field is not None:
        value = exp.func("struct_extract", value, exp.Literal.string(field.name))
    return value if condition is None else q.case(condition.copy(), value)


def _source_aggregate(
    funnel: Funnel,
    source_name: str,
    plans: list[StagePlan],
    attributes: Mapping[str, tuple[str, str]],
    resolver: Resolver,
    lookups: Mapping[str, tuple[LookupJoin, str]] | None = None,
    lost: tuple[str, exp.Expr] | None = None,
    *,
    distinct_keys: bool = False,
) -> tuple[exp.Select, bool]:
    """Layer 1 for one source, and whether it could be computed per row when its keys are
    distinct (`distinct_keys`: it is then). `lookups`: attribute alias → (lookup, raw lookup
    column) for the attributes this source gets from a lookup joined on; `lost`: the `lost:`
    outcome's source and row condition (a `lost_u` flag when it is this source)."""
    spec = funnel.spec
    lookups = lookups or {}
    source = spec.sources[source_name]
    mapped = spec.grain is Grain.account and source.account is None
    key = (
        exp.cast(q.col("__account"), "VARCHAR")
        if mapped
        else _key_expression(funnel, source_name, resolver)
    )
    mine = [p for p in plans if p.source == source_name]
    # The time a row brings the key into the funnel: its earliest-declared stage evidence.
    row_times = [q.case(p.condition.copy(), p.time.copy()) for p in mine if p.time is not None]
    row_time = q.coalesce(*row_times) if row_times else exp.null()
    columns: list[exp.Expr] = [q.alias(key, KEY), q.alias(exp.Count(this=exp.Star()), ROWS)]
    if row_times:
        # The latest evidence time of any row: the default maturity anchor (`as_of`).
        row_latest = q.greatest(*[t.copy() for t in row_times])
        columns.append(q.alias(exp.Max(this=row_latest), LATEST))
    for plan in mine:
        k = plan.index
        if plan.time is None:
            columns.append(q.alias(exp.func("bool_or", plan.condition.copy()), f"u_{k}"))
            if plan.value is not None:
                columns.append(
                    q.alias(
                        q.filtered(q.first_by(plan.value.copy()), plan.condition.copy()), f"v_{k}"
                    )
                )
            continue
        if plan.as_list:
            # Each element is {t, v}; a stage without value lists bare times (a third cheaper).
            element: exp.Expr = (
                plan.time.copy()
                if plan.value is None
                else exp.Struct(
                    expressions=[
                        exp.PropertyEQ(this=exp.to_identifier("t"), expression=plan.time.copy()),
                        exp.PropertyEQ(this=exp.to_identifier("v"), expression=plan.value.copy()),
                    ]
                )
            )
            # Sorted after aggregating: the element's own order is (time, value), NULLs last,
            # what ARRAY_AGG(… ORDER BY time, value) gave, at 60% of its cost (DuckDB buffers
            # and sorts an ordered aggregate per group).
            listed = q.filtered(exp.ArrayAgg(this=element), plan.condition.copy())
            columns.append(q.alias(exp.ArraySort(this=listed, nulls_first=exp.false()), f"l_{k}"))
            continue
        # min() skips NULLs itself: a condition that only asks for a time needs no FILTER
        # (about 5% of this aggregate).
        only_timed = plan.time_column is not None and plan.condition == q.not_null(
            q.col(plan.time_column)
        )
        condition = None if only_timed else plan.condition.copy()
        columns.append(q.alias(q.filtered(exp.Min(this=plan.time.copy()), condition), f"m_{k}"))
        if plan.value is not None:
            columns.append(
                q.alias(
                    q.filtered(
                        q.first_by(plan.value.copy(), plan.time.copy()), plan.condition.copy()
                    ),
                    f"v_{k}",
                )
            )
    if lost is not None and lost[0] == source_name:
        columns.append(q.alias(exp.func("bool_or", lost[1].copy()), "lost_u"))
    joined: dict[str, tuple[LookupJoin, dict[str, str]]] = {}
    for alias, (attr_source, raw) in attributes.items():
        if attr_source == source_name:
            if alias in lookups:  # a lookup column, joined on below as column `alias`
                join, lookup_raw = lookups[alias]
                joined.setdefault(join.name, (join, {}))[1][alias] = lookup_raw
                value: exp.Expr = q.col(alias)
            else:
                value = exp.cast(q.col(raw), "VARCHAR")
            columns.append(q.alias(q.first_by(value, row_time.copy()), alias))
    rows = join_lookups(_source_from(funnel, source_name, resolver), list(joined.values()))
    aggregate = exp.select(*columns).from_(rows).group_by(key)
    # A join (lookups, the account mapping) could repeat a row: only the source's own rows.
    per_row = _per_row(aggregate) if not joined and not mapped else None
    if per_row is not None and distinct_keys:
        return per_row, True
    return aggregate, per_row is not None


# --- layers 2-4 ---------------------------------------------------------------------------


def compile_funnel(
    funnel: Funnel,
    headers: _Headers,
    query: ReportQuery | None = None,
    distinct_keys: frozenset[str] = frozenset(),
    trusted: frozenset[str] = frozenset(),
    *,
    stream: bool = False,
) -> CompiledFunnel:
    """Build the report query for `funnel`.

    `headers` are each source's raw column names, or names → DuckDB types (then date and
    timestamp columns skip the text-to-UTC conversion). `distinct_keys`: sources known to have
    one row per key (unique_key_check), whose layer 1 is then computed per row, no GROUP BY.
    `trusted`: sources read per row before that is known; the query also outputs each one's
    check (CompiledFunnel.checks), and its result stands only where every check is true.
    `stream`: every source is read per row from a Parquet copy, cheap to read twice, so the
    per-key layer is not materialised (at 10M rows 0.43 instead of 1.3 GiB).
    """
    query = query or ReportQuery()
    spec = funnel.spec
    resolver = Resolver(funnel, headers)
    plans = stage_plans(funnel, resolver)
    breakdowns = _unique_breakdowns(query.breakdowns)
    names = attribute_names(funnel, breakdowns)
    attributes: dict[str, tuple[str, str]] = {}
    aliases: dict[str, str] = {}
    by_names = {a for b in breakdowns for a in b}
    joins = lookup_joins(funnel, headers)
    from_lookup: dict[str, tuple[LookupJoin, str]] = {}
    for index, name in enumerate(names):
        alias = f"a_{index}"
        attributes[alias] = resolver.attribute_source(name, None if name in by_names else "filter")
        if attributes[alias][0] in joins:
            # A lookup column: taken from the funnel source the lookup joins on.
            join = joins[attributes[alias][0]]
            from_lookup[alias] = (join, attributes[alias][1])
            attributes[alias] = (join.base, attributes[alias][1])
        aliases[name] = alias
    if query.periods:
        aliases[PERIOD_KEY] = PERIOD_COLUMN
        breakdowns = ((PERIOD_KEY,), *((PERIOD_KEY, *b) for b in breakdowns), *breakdowns)
    lost = lost_condition(funnel, resolver)

    sources = spec.funnel_sources  # lookups are joined inside layer 1, not here
    with_: list[tuple[str, exp.Expr]] = []
    candidates: list[str] = []
    for i, source_name in enumerate(sources):
        aggregate, possible = _source_aggregate(
            funnel,
            source_name,
            plans,
            attributes,
            resolver,
            from_lookup,
            lost,
            distinct_keys=source_name in distinct_keys | trusted,
        )
        if possible:
            candidates.append(source_name)
        with_.append((f"agg_{i}", aggregate))

    # Layer 2: full outer join of the per-source aggregates on the key.
    stage_columns = _stage_column_origins(plans, sources)
    if lost is not None:
        stage_columns["lost_u"] = sources.index(lost[0])
    id_columns: list[exp.Expr] = [
        q.alias(q.coalesce(*[q.col(KEY, f"agg_{i}") for i in range(len(sources))]), KEY)
    ]
    latest_columns: list[str] = []
    for i in range(len(sources)):
        id_columns.append(q.alias(q.col(ROWS, f"agg_{i}"), f"rows_{i}"))
        if any(p.source == sources[i] and p.time is not None for p in plans):
            latest_columns.append(f"latest_{i}")
            id_columns.append(q.alias(q.col(LATEST, f"agg_{i}"), f"latest_{i}"))
    for column, i in stage_columns.items():
        id_columns.append(q.alias(q.col(column, f"agg_{i}"), column))
    for alias, (attr_source, _raw) in attributes.items():
        value = q.col(alias, f"agg_{sources.index(attr_source)}")
        id_columns.append(q.alias(q.coalesce(value, exp.Literal.string(NONE_GROUP)), alias))
    joined = exp.select(*id_columns).from_(q.table("agg_0"))
    for i in range(1, len(sources)):
        joined = joined.join(
            q.table(f"agg_{i}"),
            on=exp.EQ(
                this=q.col(KEY, f"agg_{i}"),
                expression=q.coalesce(*[q.col(KEY, f"agg_{j}") for j in range(i)]),
            ),
            join_type="FULL OUTER",
        )
    with_.append(("ids", joined))

    # Raw minima (no window) per stage: entry time, backwards detection, the data's max time.
    def raw_min(plan: StagePlan) -> exp.Expr | None:
        if plan.time is None:
            return None
        if plan.as_list:
            return _element_time(q.first_element(q.col(f"l_{plan.index}")), plan)
        return q.col(f"m_{plan.index}")

    minima = [raw_min(p) for p in plans]
    timed_minima = [m for m in minima if m is not None]
    if spec.order is Order.strict or len(timed_minima) == 0:
        entry = (minima[0] or exp.null()).copy()
    else:
        first_min = minima[0]
        rest = q.least(*[m.copy() for m in timed_minima])
        entry = q.coalesce(first_min.copy(), rest) if first_min is not None else rest
    with_.append(
        ("ev", exp.select(exp.Star(), q.alias(q.ts(entry), "entry_at")).from_(q.table("ids")))
    )

    # Layer 3: qualify each stage in order.
    previous = "ev"
    for plan in plans:
        k = plan.index
        name = f"q_{k}"
        with_.append(
            (
                name,
                exp.select(exp.Star(), *_qualify(plan, spec.window, spec.order)).from_(
                    q.table(previous)
                ),
            )
        )
        previous = name

    with_.append(("per_id", _per_id(funnel, plans, minima, previous, query, aliases)))
    with_.append(("scored", _scored(spec.window, latest_columns, query.as_of)))

    # Duplicate ids are a data-quality finding at lead grain only (an account has many leads).
    wide = [spec.sources[s].shape is Shape.wide and spec.grain is Grain.lead for s in sources]
    value_lists = {name: f"values_{aliases[name]}" for name in query.known_values}
    quality = _quality_aggregate(sources, query, wide)
    for name, column in value_lists.items():
        values = exp.ArrayAgg(this=exp.Distinct(expressions=[q.col(aliases[name])]))
        quality.select(q.alias(values, column), append=True, copy=False)
    with_.append(("quality", quality))
    final = _final_aggregate(plans, breakdowns, aliases, spec.window is not None)
    final = _with_sales_columns(final, spec.won_stage, lost is not None)
    final = _split_quantiles(final, quality)
    checks: dict[str, str] = {}
    for i, source_name in enumerate(sources):
        if source_name in trusted and source_name in candidates:
            check = exp.Subquery(this=unique_key_check(funnel, source_name, headers))
            final.select(q.alias(check, f"distinct_{i}"), append=True, copy=False)
            checks[f"distinct_{i}"] = source_name
    # With a given as_of nothing forces DuckDB to materialise the per-key layer that both
    # aggregates read, and it computes it twice (from a CSV: two parses, and two GROUP BYs at
    # 10M rows: 10.8 s instead of 5 s). Kept once, unless reading it again is cheap (`stream`).
    materialize = query.as_of is not None and not stream
    for name, body in with_:
        final = final.with_(
            exp.to_identifier(name, quoted=True),
            as_=body,
            copy=False,
            materialized=True if materialize and name == "scored" else None,
        )
    group_columns = {name: f"g_{aliases[name]}" for b in breakdowns for name in b}
    return CompiledFunnel(
        query=final,
        stage_names=tuple(s.name for s in spec.stages),
        breakdowns=breakdowns,
        group_columns=group_columns,
        source_names=tuple(sources),
        typed_columns=_typed_columns(plans),
        value_lists=value_lists,
        per_row_candidates=tuple(candidates),
        per_row=tuple(c for c in candidates if c in distinct_keys | trusted),
        latest_columns=tuple(latest_columns),
        checks=checks,
    )


def _element_time(element: exp.Expr, plan: StagePlan) -> exp.Expr:
    """The time of one element of a stage's evidence list (a bare time when it has no value)."""
    if plan.value is None:
        return element
    return exp.Dot(this=element, expression=exp.to_identifier("t"))


def _typed_columns(plans: list[StagePlan]) -> tuple[tuple[str, str, str], ...]:
    typed: dict[tuple[str, str, str], None] = {}
    for plan in plans:
        if plan.time_column is not None:
            typed[(plan.source, plan.time_column, "TIMESTAMP")] = None
        if plan.value_column is not None:
            typed[(plan.source, plan.value_column, "AMOUNT")] = None
    return tuple(typed)


def _unique_breakdowns(breakdowns: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    seen: list[tuple[str, ...]] = []
    for group in breakdowns:
        clean = tuple(dict.fromkeys(group))
        if clean and not any(set(clean) == set(s) for s in seen):
            seen.append(clean)
    return tuple(seen)


def _stage_column_origins(plans: list[StagePlan], sources: list[str]) -> dict[str, int]:
    origins: dict[str, int] = {}
    for plan in plans:
        i = sources.index(plan.source)
        k = plan.index
        if plan.time is None:
            origins[f"u_{k}"] = i
        elif plan.as_list:
            origins[f"l_{k}"] = i
        else:
            origins[f"m_{k}"] = i
        if plan.value is not None and not plan.as_list:
            origins[f"v_{k}"] = i
    return origins


def _qualify(plan: StagePlan, window: Duration | None, order: Order) -> list[exp.Expr]:
    """Columns qt_k (qualifying time), qv_k (its value) and qr_k (explicit evidence)."""
    k = plan.index
    previous_time = q.col(f"qt_{k - 1}") if k > 1 else None
    strict = order is Order.strict
    if plan.time is None:
        reached: exp.Expr = exp.func("coalesce", q.col(f"u_{k}"), exp.false())
        qualified_time: exp.Expr = exp.cast(exp.null(), "TIMESTAMP")
        value: exp.Expr = q.col(f"v_{k}") if plan.value is not None else exp.null()
    else:

        def bounds(t: exp.Expr) -> exp.Expr:
            checks: list[exp.Expr | None] = []
            if window is not None and k > 1:
                checks.append(
                    exp.LTE(
                        this=t.copy(),
                        expression=exp.Add(this=q.col("entry_at"), expression=q.interval(window)),
                    )
                )
            if plan.spec.within is not None and previous_time is not None:
                checks.append(
                    q.or_(
                        q.is_null(previous_time.copy()),
                        exp.LTE(
                            this=t.copy(),
                            expression=exp.Add(
                                this=previous_time.copy(), expression=q.interval(plan.spec.within)
                            ),
                        ),
                    )
                )
            if strict and k > 1:
                lower = q.coalesce(*[q.col(f"qt_{j}") for j in range(k - 1, 0, -1)])
                checks.append(
                    q.or_(
                        q.is_null(lower.copy()),
                        exp.GTE(this=t.copy(), expression=lower),
                    )
                )
            return q.and_(*checks)

        if plan.as_list:
            element = exp.to_identifier("e")
            t = _element_time(exp.column("e"), plan)
            lam = exp.Lambda(this=bounds(t), expressions=[element])
            hit = q.first_element(exp.func("list_filter", q.col(f"l_{k}"), lam))
            qualified_time = _element_time(hit, plan)
            value = (
                exp.Dot(this=hit.copy(), expression=exp.to_identifier("v"))
                if plan.value is not None
                else exp.null()
            )
        else:
            m = q.col(f"m_{k}")
            qualified_time = q.case(bounds(m), m.copy())
            value = q.col(f"v_{k}") if plan.value is not None else exp.null()
        reached = q.not_null(qualified_time.copy())
    if strict and k > 1:
        # An id stops at the first stage it does not reach; later evidence is ignored.
        reached = exp.and_(q.col(f"qr_{k - 1}"), reached)
        qualified_time = q.case(q.col(f"qr_{k - 1}"), qualified_time)
    value = (
        q.case(reached.copy(), value) if plan.value is not None else exp.cast(exp.null(), "DOUBLE")
    )
    return [
        q.alias(q.ts(qualified_time), f"qt_{k}"),
        q.alias(exp.cast(value, "DOUBLE"), f"qv_{k}"),
        q.alias(reached, f"qr_{k}"),
    ]


def _per_id(
    funnel: Funnel,
    plans: list[StagePlan],
    minima: list[exp.Expr | None],
    previous: str,
    query: ReportQuery,
    aliases: Mapping[str, str],
) -> exp.Select:
    spec = funnel.spec
    n = len(plans)
    columns: list[exp.Expr] = [exp.Star()]
    for k in range(1, n + 1):
        if spec.order is Order.backfill:
            reached = q.or_(*[q.col(f"qr_{j}") for j in range(k, n + 1)])
        else:
            reached = q.col(f"qr_{k}")
        columns.append(
            q.alias(
                exp.and_(q.not_null(q.col(KEY)), reached),
                f"r_{k}",
            )
        )
    # Backwards: a stage's earliest time precedes an earlier stage's earliest time.
    for k in range(2, n + 1):
        current = minima[k - 1]
        earlier = [m for m in minima[: k - 1] if m is not None]
        if current is None or not earlier:
            flag: exp.Expr = exp.false()
        else:
            latest = q.greatest(*[m.copy() for m in earlier])
            flag = exp.func("coalesce", exp.LT(this=current.copy(), expression=latest), exp.false())
        columns.append(q.alias(flag, f"bw_{k}"))
    in_period: list[exp.Expr] = []
    if query.since is not None:
        in_period.append(exp.GTE(this=q.col("entry_at"), expression=q.ts_literal(query.since)))
    if query.until is not None:
        in_period.append(exp.LT(this=q.col("entry_at"), expression=q.ts_literal(query.until)))
    if query.periods:
        bucket = exp.Case()
        for index, (start, end) in enumerate(query.periods):
            bucket = bucket.when(
                exp.and_(
                    exp.GTE(this=q.col("entry_at"), expression=q.ts_literal(start)),
                    exp.LT(this=q.col("entry_at"), expression=q.ts_literal(end)),
                ),
                exp.Literal.number(index),
            )
        columns.append(q.alias(bucket, PERIOD_COLUMN))
        in_period.append(q.not_null(bucket.copy()))
    period = exp.func("coalesce", q.and_(*in_period), exp.false()) if in_period else exp.true()
    columns.append(q.alias(period, "in_period"))
    if spec.filter:
        resolver = Resolver(funnel, {})
        condition = resolver.condition(spec.filter, None, "filter", attributes=aliases)
        kept: exp.Expr = exp.func("coalesce", exp.Paren(this=condition), exp.false())
    else:
        kept = exp.true()
    columns.append(q.alias(kept, "kept"))
    return exp.select(*columns).from_(q.table(previous))


def _anchor(latest_columns: Sequence[str]) -> exp.Select:
    """The default `as_of`: the latest evidence time of any row with a key (NULL without
    timed evidence)."""
    if not latest_columns:
        return exp.select(exp.cast(exp.null(), "TIMESTAMP"))
    latest = [exp.Max(this=q.col(c)) for c in latest_columns]
    return exp.select(q.greatest(*latest)).from_(q.table("per_id")).where(q.not_null(q.col(KEY)))


def _scored(
    window: Duration | None, latest_columns: list[str], as_of: datetime | None
) -> exp.Select:
    """Adds `as_of` (the maturity anchor) and `immature` (entered less than a window before it)."""
    anchor = (
        q.ts_literal(as_of) if as_of is not None else exp.Subquery(this=_anchor(latest_columns))
    )
    columns: list[exp.Expr] = [exp.Star(), q.alias(q.ts(anchor), "as_of")]
    if window is not None:
        matures = exp.Add(this=q.col("entry_at"), expression=q.interval(window))
        columns.append(
            q.alias(
                exp.func(
                    "coalesce", exp.GT(this=matures, expression=q.ts(anchor.copy())), exp.false()
                ),
                "immature",
            )
        )
    return exp.select(*columns).from_(q.table("per_id"))


def _final_aggregate(
    plans: list[StagePlan],
    breakdowns: tuple[tuple[str, ...], ...],
    aliases: Mapping[str, str],
    has_window: bool,
) -> exp.Select:
    """The stage aggregates of the cohort, per grouping set.

    The cohort is a WHERE, not a FILTER on each aggregate: DuckDB then skips the rows outside
    it once (a weekly report over years of data skips most of them) instead of filtering
    per aggregate, which made this aggregate twice as slow. Counts over every key read are in
    `_quality_aggregate`.
    """
    n = len(plans)
    columns: list[exp.Expr] = []
    group_aliases = list(dict.fromkeys(aliases[a] for b in breakdowns for a in b))
    for alias in group_aliases:
        columns.append(q.alias(q.col(alias), f"g_{alias}"))
    columns.append(q.alias(q.count_if(), "entered"))
    if has_window:
        columns.append(q.alias(q.count_if(q.col("immature")), "immature_ids"))
    else:
        columns.append(q.alias(exp.Literal.number(0), "immature_ids"))
    backwards = [q.col(f"bw_{k}") for k in range(2, n + 1)]
    columns.append(q.alias(q.count_if(q.or_(*backwards)), "backwards_ids"))
    columns.append(q.alias(exp.Min(this=q.col("entry_at")), "first_entry"))
    columns.append(q.alias(exp.Max(this=q.col("entry_at")), "last_entry"))
    for k in range(1, n + 1):
        columns.append(q.alias(q.count_if(q.col(f"r_{k}")), f"s{k}_count"))
        # Summed as DECIMAL: exact, so the total does not depend on thread scheduling.
        decimal = exp.DataType.build("DECIMAL(38, 6)")
        if plans[k - 1].value is None:  # no value: skip a costly all-NULL aggregate
            columns.append(q.alias(exp.cast(exp.null(), decimal), f"s{k}_value"))
        else:
            exact = exp.cast(q.col(f"qv_{k}"), decimal.copy())
            value = q.col(f"qv_{k}")
            median = exp.func("quantile_cont", value.copy(), exp.Literal.number(0.5))
            columns += [
                q.alias(exp.Sum(this=exact), f"s{k}_value"),
                q.alias(exp.Count(this=value.copy()), f"s{k}_value_n"),
                q.alias(exp.Avg(this=exact.copy()), f"s{k}_value_avg"),
                q.alias(median, f"s{k}_value_median"),
            ]
        if k > 1:
            columns.append(q.alias(q.count_if(q.col(f"bw_{k}")), f"s{k}_backwards"))
        for label, origin in (("prev", k - 1), ("entry", 1)):
            if k == 1 or origin < 1:
                continue
            seconds = exp.Sub(
                this=q.epoch(q.col(f"qt_{k}")), expression=q.epoch(q.col(f"qt_{origin}"))
            )
            days = exp.Div(this=exp.Paren(this=seconds), expression=exp.Literal.number(86400))
            # Both quantiles from one aggregate (one sort), split in the outer select below.
            fractions = exp.Array(expressions=[exp.Literal.number(f) for f in QUANTILES])
            quantiles = exp.func("quantile_cont", days.copy(), fractions)
            columns.append(q.alias(exp.Count(this=days), f"s{k}_{label}_n"))
            columns.append(q.alias(quantiles, f"s{k}_{label}_q"))
    select = exp.select(*columns).from_(q.table("scored")).where(_cohort())
    if group_aliases:
        sets = [exp.Tuple(expressions=[])]
        for group in breakdowns:
            sets.append(exp.Tuple(expressions=[q.col(aliases[a]) for a in group]))
        select = select.group_by(exp.GroupingSets(expressions=sets))
    return select


def _cohort() -> exp.Expr:
    """The ids a report counts: in the funnel (reached stage 1), entering in the period, kept
    by the filter."""
    return exp.and_(q.col("r_1"), q.col("in_period"), q.col("kept"))


def _quality_aggregate(
    sources: list[str], query: ReportQuery, wide: Sequence[bool] = ()
) -> exp.Select:
    """Data-quality counts over every key read, and the maturity anchor: one row."""
    columns: list[exp.Expr] = []
    funnel_member = q.col("r_1")
    for i in range(len(sources)):
        columns.append(q.alias(exp.Sum(this=q.col(f"rows_{i}")), f"rows_read_{i}"))
        columns.append(
            q.alias(
                q.filtered(exp.Sum(this=q.col(f"rows_{i}")), q.is_null(q.col(KEY))),
                f"rows_without_id_{i}",
            )
        )
        if i < len(wide) and wide[i]:
            duplicated = exp.and_(
                exp.GT(this=q.col(f"rows_{i}"), expression=exp.Literal.number(1)),
                q.not_null(q.col(KEY)),
            )
            columns.append(q.alias(q.count_if(duplicated), f"duplicate_ids_{i}"))
    if query.since is not None or query.until is not None or query.periods:
        columns.append(
            q.alias(
                q.count_if(exp.and_(funnel_member.copy(), q.is_null(q.col("entry_at")))),
                "ids_without_entry_time",
            )
        )
    else:
        columns.append(q.alias(exp.Literal.number(0), "ids_without_entry_time"))
    columns.append(
        q.alias(
            q.count_if(
                exp.and_(
                    funnel_member.copy(),
                    exp.Not(this=q.col("in_period")),
                    q.not_null(q.col("entry_at")),
                )
            ),
            "ids_outside_period",
        )
    )
    columns.append(
        q.alias(
            q.count_if(
                exp.and_(funnel_member.copy(), q.col("in_period"), exp.Not(this=q.col("kept")))
            ),
            "ids_filtered_out",
        )
    )
    columns.append(q.alias(exp.Max(this=q.col("as_of")), "as_of"))
    return exp.select(*columns).from_(q.table("scored"))


def _with_sales_columns(final: exp.Select, won: int, has_lost: bool) -> exp.Select:
    """Append the sales aggregates (docs/sales.md) to the final (cohort) aggregate.

    `lost_count`: cohort keys with `lost:` evidence that did not reach the win stage `won`;
    `cycle_n`/`cycle_p50`: days from `entry_at` to the win stage's qualifying time.
    """
    reached_won = q.col(f"r_{won}")
    if has_lost:
        lost = exp.and_(
            exp.func("coalesce", q.col("lost_u"), exp.false()),
            exp.Not(this=reached_won.copy()),
        )
        lost_count: exp.Expr = q.count_if(lost)
    else:
        lost_count = exp.Literal.number(0)
    seconds = exp.Sub(this=q.epoch(q.col(f"qt_{won}")), expression=q.epoch(q.col("entry_at")))
    days = exp.Div(this=exp.Paren(this=seconds), expression=exp.Literal.number(86400))
    median = exp.func("quantile_cont", days.copy(), exp.Literal.number(0.5))
    columns = [
        q.alias(lost_count, "lost_count"),
        q.alias(exp.Count(this=days.copy()), "cycle_n"),
        q.alias(median, "cycle_p50"),
    ]
    return final.select(*columns, append=True, copy=False)


def _split_quantiles(final: exp.Select, quality: exp.Select) -> exp.Select:
    """Each `<name>_q` column (a list of QUANTILES from one quantile_cont) becomes one column
    per quantile, `<name>_p50`, `<name>_p90`, in an outer select over the aggregate, which
    also brings the one row of `quality` (CTE "quality") onto every row."""
    outer: list[exp.Expr] = []
    for column in final.expressions:
        name = column.alias_or_name
        if not name.endswith("_q"):
            outer.append(q.col(name, "f"))
            continue
        for i, fraction in enumerate(QUANTILES, start=1):
            element = exp.Anonymous(
                this="list_extract", expressions=[q.col(name, "f"), exp.Literal.number(i)]
            )
            outer.append(q.alias(element, f"{name[:-2]}_p{int(fraction * 100)}"))
    outer += [q.col(column.alias_or_name, "quality") for column in quality.expressions]
    return exp.select(*outer).from_(final.subquery("f")).join(q.table("quality"), join_type="cross")
