"""Spec → the report query as one sqlglot AST. Pure: same funnel, schema and query in, same SQL
out; never touches DuckDB (DESIGN.md §1).

`compile_funnel` builds the query that holds for any export (every source grouped by key).
How it is executed — a source read per row, a key check inside the query, an anchored
`as_of` — is decided later by a plan and applied as pure rewrites (rewrites.py).

User text never reaches the SQL as text: columns are quoted identifiers, values are literals,
conditions are allow-listed ASTs (sql/conditions.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from funnelcli.compile import (
    aggregates,
    attempts,
    attribution,
    exclusions,
    layers,
    once,
    sequence,
    sources,
    top,
    unordered,
)
from funnelcli.compile.columns import NONE_GROUP, Grouping, Layer, ResultColumns
from funnelcli.compile.lookups import LookupJoin, lookup_joins
from funnelcli.compile.resolve import (
    Resolver,
    StagePlan,
    attribute_names,
    lost_condition,
    stage_plans,
)
from funnelcli.spec import Attempts, Funnel, Grain, Order, Shape
from funnelcli.spec.duration import Duration
from funnelcli.sql import ast as q

# Each source's columns: names, or names → DuckDB types (then date and timestamp columns skip
# the text-to-UTC conversion). What `Engine.schema()` returns.
Schema = Mapping[str, Sequence[str] | Mapping[str, str]]


@dataclass(frozen=True)
class ReportQuery:
    """The options that shape a report's SQL (everything else comes from the spec)."""

    since: datetime | None = None
    until: datetime | None = None
    as_of: datetime | None = None
    breakdowns: tuple[tuple[str, ...], ...] = ()
    # Entry periods [since, until) (UTC, non-overlapping): when given, the cohort is the ids
    # entering in one of them, and every group is also split by period (GroupRow.period), so
    # summaries and cohort matrices need one query, not one per period.
    periods: tuple[tuple[datetime, datetime], ...] = ()
    # Attributes (among the breakdowns) whose every value, over all ids read and not only the
    # cohort, is listed (QualityRow.known_values): funnel roi tells a channel without leads in
    # the period from a spend channel no lead carries.
    known_values: tuple[str, ...] = ()
    # --top N: each breakdown attribute keeps its N values with the most entries, the rest
    # grouped as "(other)" (compile/top.py).
    top: int | None = None
    # Count a stage only when reached within this long of entry (like a shorter window):
    # summaries compare periods at equal age (docs/summary.md, "Horizons").
    horizon: Duration | None = None


@dataclass(frozen=True)
class CompiledFunnel:
    """The report query, the names of its columns, and what the plan may rewrite."""

    query: exp.Select
    columns: ResultColumns
    stage_names: tuple[str, ...]
    breakdowns: tuple[tuple[str, ...], ...]
    typed_columns: tuple[tuple[str, str, str], ...]  # (source, raw header, SQL type) cast by us
    # The default maturity anchor (`as_of`: the latest evidence time of any keyed row) read
    # straight from the sources, independent of every query option: a first pass whose
    # result, given back as a literal, makes the same report (rewrites.anchor_at).
    anchor_query: exp.Select
    plans: tuple[StagePlan, ...] = ()  # each stage's evidence rule, as the layers read it

    @property
    def source_names(self) -> tuple[str, ...]:
        return self.columns.sources

    def sql(self, *, pretty: bool = True, dialect: str = "duckdb") -> str:
        """The query in `dialect`; something the dialect cannot express raises (sqlglot's
        UnsupportedError) instead of printing a warning and SQL that would not run."""
        from sqlglot.errors import ErrorLevel

        return self.query.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)

    def anchors(self) -> exp.Select:
        """Only the maturity anchor (as_of) and the cohort's first entry, over the same layers
        (and the key checks, when there are): what summaries and cohort matrices need before
        choosing their periods, without the stage aggregates."""
        first = q.filtered(exp.Min(this=q.col(Layer.ENTRY)), layers.cohort())
        found = {e.alias_or_name: e for e in self.query.expressions}
        checks = [found[self.columns.check(s)].copy() for s in self.columns.checks]
        select = exp.select(
            q.alias(exp.Max(this=q.col(Layer.AS_OF)), ResultColumns.AS_OF),
            q.alias(first, ResultColumns.FIRST_ENTRY),
            *checks,
            copy=False,
        ).from_(q.table(Layer.SCORED), copy=False)
        select.set("with_", self.query.args["with_"].copy())
        return select


def compile_funnel(
    funnel: Funnel, schema: Schema, query: ReportQuery | None = None
) -> CompiledFunnel:
    """Build the report query for `funnel` over sources with these columns.

    Unknown columns (also the YAML's `dimensions:` and `breakdown:`, even when this query does
    not break down by them) are SpecErrors naming their YAML key.
    """
    query = query or ReportQuery()
    spec = funnel.spec
    resolver = Resolver(funnel, schema)
    if schema:
        for key in ("dimensions", "breakdown"):
            for index, name in enumerate(getattr(spec, key)):
                resolver.attribute_source(name, f"{key}[{index}]")
    plans = once.listed(funnel, stage_plans(funnel, resolver, query.as_of), resolver)
    if schema and spec.attribution.startswith(("last", "stage:")):
        # the YAML's breakdown columns must be where `attribution:` reads them
        yaml_names = tuple((n,) for n in dict.fromkeys([*spec.dimensions, *spec.breakdown]))
        if yaml_names:
            found, _, lookups = _attributes(funnel, resolver, schema, yaml_names)
            names = {n[0]: Layer.attribute(i) for i, n in enumerate(yaml_names)}
            attribution.attribute(funnel, resolver, plans, names, found, lookups)
    breakdowns = unique_breakdowns(query.breakdowns)
    attributes, aliases, from_lookup = _attributes(funnel, resolver, schema, breakdowns)
    by_names = dict.fromkeys(a for b in breakdowns for a in b)
    plans, credited = attribution.attribute(
        funnel, resolver, plans, {n: aliases[n] for n in by_names}, attributes, from_lookup
    )
    first_known = credited.first_known if credited is not None else frozenset()
    lost = lost_condition(funnel, resolver, query.as_of)
    excluding = exclusions.exclusion_plans(funnel, resolver, query.as_of)
    source_names = tuple(spec.funnel_sources)  # lookups are joined inside layer 1, not here

    groupings = [Grouping(b) for b in breakdowns]
    if query.periods:
        groupings = [Grouping((), True), *(Grouping(b, True) for b in breakdowns), *groupings]
    # Duplicate ids are a data-quality finding at lead grain only (an account has many leads).
    wide = {
        i
        for i, s in enumerate(source_names)
        if spec.sources[s].shape is Shape.wide and spec.grain is Grain.lead
    }
    columns = ResultColumns(
        stage_count=len(plans),
        sources=source_names,
        # breakdowns group on the attributed columns; filter: reads `aliases` (as of entry)
        aliases={n: credited.column(a) for n, a in aliases.items()} if credited else aliases,
        groupings=tuple(groupings),
        duplicate_sources=frozenset(wide),
        known_values=query.known_values,
        folded=frozenset(a for b in breakdowns for a in b) if query.top else frozenset(),
        exclusions=len(excluding),
        per_attempt=spec.attempts is Attempts.each,
    )

    with_: list[tuple[str, exp.Expr]] = []
    for i, source_name in enumerate(source_names):
        aggregate = sources.source_aggregate(
            funnel, source_name, plans, attributes, resolver, from_lookup, lost, first_known
        )
        if spec.order is Order.sequence and source_name == plans[0].source:
            events = sequence.events_column(funnel, source_name, plans, resolver)
            aggregate = aggregate.select(events, append=True, copy=False)
        listed = exclusions.list_columns(excluding, source_name)
        aggregate = aggregate.select(*listed, append=True, copy=False)
        with_.append((Layer.source(i), aggregate))
    ids = layers.joined_ids(source_names, plans, attributes, lost, NONE_GROUP, first_known)
    if spec.order is Order.sequence:  # the key's rows as events (compile/sequence.py)
        i = source_names.index(plans[0].source)
        events = q.alias(q.col(sequence.EVENTS, Layer.source(i)), sequence.EVENTS)
        ids = ids.select(events, append=True, copy=False)
    ids = ids.select(*exclusions.ids_columns(excluding, source_names), append=True, copy=False)
    with_.append((Layer.IDS, ids))
    minima = layers.raw_minima(plans)
    anchored = attempts.anchored(funnel, plans)
    unordered_ = spec.order is Order.any
    if unordered_:  # stages in any order (compile/unordered.py)
        anchored = spec.attempts is not Attempts.first
        if anchored:
            with_.append((attempts.ANCHORS, unordered.anchors(funnel, plans, resolver)))
            with_.append((Layer.ENTERED, attempts.with_anchors()))
        else:
            with_.append((Layer.ENTERED, unordered.with_entry(minima)))
        with_ += unordered.layers(plans, Layer.ENTERED, spec.window, query.horizon)
    elif anchored:  # one row per key and attempt (compile/attempts.py)
        with_.append((attempts.ANCHORS, attempts.anchors(funnel, plans[0], resolver)))
        with_.append((Layer.ENTERED, attempts.with_anchors()))
    else:
        with_.append((Layer.ENTERED, layers.with_entry(minima, spec.order)))
    each = spec.attempts is Attempts.each
    # attempts: each chains its attempts without the horizon, then qualifies them with it
    chained = anchored and each and not unordered_  # each is refused under order: any
    horizon = None if chained else query.horizon
    if unordered_:
        previous = unordered.DONE_LAYER
    else:
        previous = _stage_layers(with_, plans, Layer.ENTERED, query, funnel, excluding, horizon)
    if chained:  # the attempts that follow one another (compile/attempts.py)
        with_.append((attempts.ENDS, attempts.ends(previous, len(plans), spec.window)))
        with_.append((attempts.NEXT, attempts.nexts()))
        with_.append((attempts.CHAIN, attempts.chain()))
        if query.horizon is None:
            with_.append((attempts.EACH, attempts.each(previous)))
            previous = attempts.EACH
        else:
            with_.append((attempts.EACH, attempts.each(Layer.ENTERED)))
            previous = _stage_layers(
                with_, plans, attempts.EACH, query, funnel, excluding, query.horizon, "h"
            )
    elif anchored:
        out = exclusions.funnel_hits(excluding)
        with_.append((attempts.BEST, attempts.best(previous, len(plans), out)))
        previous = attempts.BEST
    elif each:  # one attempt per key (a first stage with one time): every row is the first
        with_.append((attempts.EACH, attempts.single(previous)))
        previous = attempts.EACH
    kept = None
    if spec.filter:
        types = {
            name: resolver.sql_type(*attributes[alias])
            for name, alias in aliases.items()
            if alias not in from_lookup  # a lookup's column: its type is the lookup's
        }
        kept = Resolver(funnel, {}).condition(
            spec.filter, None, "filter", attributes=aliases, types=types
        )
    per_id = layers.per_id(
        plans,
        minima,
        previous,
        spec.order,
        query.since,
        query.until,
        query.periods,
        kept,
        credited.per_id_columns() if credited else (),
    )
    if excluding:
        per_id = exclusions.reached(per_id, excluding, spec.order, len(plans))
    with_.append((Layer.PER_ID, per_id))
    latest = [Layer.latest(i) for i, s in enumerate(source_names) if layers.timed(s, plans)]
    anchor: exp.Expr = (
        q.ts_literal(query.as_of)
        if query.as_of is not None
        else exp.Subquery(this=layers.anchor(latest))
    )
    scored = layers.scored(spec.window, anchor)
    if query.top:
        scored = scored.select(*top.folded_columns(columns, query.top), append=True, copy=False)
    with_.append((Layer.SCORED, scored))

    has_period = query.since is not None or query.until is not None or bool(query.periods)
    quality = aggregates.quality_aggregate(columns, has_period)
    quality = quality.select(*exclusions.quality_columns(excluding), append=True, copy=False)
    with_.append((Layer.QUALITY, quality))
    final = aggregates.final_aggregate(plans, columns, spec.window is not None)
    final = aggregates.with_sales_columns(final, columns, spec.won_stage, lost is not None)
    final = aggregates.split_quantiles(final, quality)
    for name, body in with_:
        final = final.with_(
            exp.to_identifier(name, quoted=True), as_=body, recursive=chained or None, copy=False
        )
    return CompiledFunnel(
        query=final,
        columns=columns,
        stage_names=tuple(s.name for s in spec.stages),
        breakdowns=breakdowns,
        typed_columns=_typed_columns(plans),
        anchor_query=_anchor_query(funnel, source_names, plans, resolver),
        plans=tuple(plans),
    )


def _stage_layers(
    with_: list[tuple[str, exp.Expr]],
    plans: Sequence[StagePlan],
    previous: str,
    query: ReportQuery,
    funnel: Funnel,
    excluding: Sequence[exclusions.ExclusionPlan],
    horizon: Duration | None,
    prefix: str = "",
) -> str:
    """Layer 3, one CTE per stage over `previous` (`prefix`: a second pass's names); the
    name of the last."""
    spec = funnel.spec
    anchored = attempts.anchored(funnel, plans)
    for plan in plans:
        name = prefix + Layer.stage(plan.index)
        taken = once.sharing(plans, plan)
        qualified = layers.qualify(plan, spec.window, spec.order, taken, horizon, anchored=anchored)
        hits = exclusions.flags(plan.index, qualified, excluding)
        if hits:  # the hits of the items ending here, read by q_k and later layers
            select = exp.select(exp.Star(), *hits, copy=False).from_(q.table(previous))
            with_.append((f"x_{plan.index}", select))
            previous = f"x_{plan.index}"
        qualified = exclusions.gate(plan.index, qualified, excluding)
        select = exp.select(exp.Star(), *qualified, copy=False).from_(q.table(previous), copy=False)
        with_.append((name, select))
        previous = name
    return previous


def _attributes(
    funnel: Funnel,
    resolver: Resolver,
    schema: Schema,
    breakdowns: tuple[tuple[str, ...], ...],
) -> tuple[dict[str, tuple[str, str]], dict[str, str], dict[str, tuple[LookupJoin, str]]]:
    """The attributes the query reads (breakdowns, then the filter's columns): alias →
    (source, raw column); name → alias; alias → (lookup, raw lookup column) for lookup ones."""
    names = attribute_names(funnel, breakdowns)
    by_names = {a for b in breakdowns for a in b}
    joins = lookup_joins(funnel, schema)
    attributes: dict[str, tuple[str, str]] = {}
    aliases: dict[str, str] = {}
    from_lookup: dict[str, tuple[LookupJoin, str]] = {}
    for index, name in enumerate(names):
        alias = Layer.attribute(index)
        source, raw = resolver.attribute_source(name, None if name in by_names else "filter")
        if source in joins:  # a lookup column: taken from the funnel source it joins on
            join = joins[source]
            from_lookup[alias] = (join, raw)
            source = join.base
        attributes[alias] = (source, raw)
        aliases[name] = alias
    return attributes, aliases, from_lookup


def _anchor_query(
    funnel: Funnel, source_names: Sequence[str], plans: Sequence[StagePlan], resolver: Resolver
) -> exp.Select:
    """`as_of`: the latest evidence time of any row that has a key, source by source (the
    same value as the per-key layers' anchor, without joining them)."""
    latest: list[exp.Expr] = []
    for source_name in source_names:
        mine = [p for p in plans if p.source == source_name]
        if not any(p.time is not None for p in mine):
            continue
        per_source = (
            exp.select(exp.Max(this=sources.latest_time(mine)), copy=False)
            .from_(sources.source_rows(funnel, source_name, resolver), copy=False)
            .where(q.not_null(sources.row_key(funnel, source_name, resolver)), copy=False)
        )
        latest.append(exp.Subquery(this=per_source))
    value = q.greatest(*latest) if latest else exp.null()
    return exp.select(q.alias(q.ts(value), ResultColumns.AS_OF), copy=False)


def _typed_columns(plans: Sequence[StagePlan]) -> tuple[tuple[str, str, str], ...]:
    typed: dict[tuple[str, str, str], None] = {}
    for plan in plans:
        if plan.time_column is not None:
            typed[(plan.source, plan.time_column, "TIMESTAMP")] = None
        if plan.value_column is not None:
            typed[(plan.source, plan.value_column, "AMOUNT")] = None
    return tuple(typed)


def unique_breakdowns(breakdowns: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    """Breakdowns without repeated attributes or repeated sets (a,b is b,a)."""
    seen: list[tuple[str, ...]] = []
    for group in breakdowns:
        clean = tuple(dict.fromkeys(group))
        if clean and not any(set(clean) == set(s) for s in seen):
            seen.append(clean)
    return tuple(seen)
