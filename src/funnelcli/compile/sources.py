"""Layer 1 of the report query: one scan of each source grouped by the funnel key (lead id,
or account at account grain): per stage the earliest evidence time (or, for strict funnels on
long sources, the sorted list of evidence times), its value, and the attributes as of the
key's first row. Builders take fresh nodes (copy=False); a node used twice is copied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlglot import exp

from funnelcli.compile.columns import Layer
from funnelcli.compile.lookups import LookupJoin, join_lookups
from funnelcli.compile.resolve import Resolver, StagePlan
from funnelcli.spec import Funnel, Grain
from funnelcli.sql import ast as q
from funnelcli.sql.ast import source_view


def key_expression(funnel: Funnel, source_name: str, resolver: Resolver) -> exp.Expr:
    """A source's key as text: its id, or its account at account grain when it has one."""
    spec = funnel.spec
    source = spec.sources[source_name]
    if spec.grain is Grain.account and source.account is not None:
        raw = resolver.column(source_name, source.account, f"sources.{source_name}.account")
    else:
        raw = resolver.column(source_name, source.id_column, f"sources.{source_name}.id")
    return exp.cast(q.col(raw), "VARCHAR", copy=False)


def is_mapped(funnel: Funnel, source_name: str) -> bool:
    """At account grain, a source without account: reaches its accounts through the first
    source's id → account pairs."""
    return funnel.spec.grain is Grain.account and funnel.spec.sources[source_name].account is None


def row_key(funnel: Funnel, source_name: str, resolver: Resolver) -> exp.Expr:
    """A row's key in layer 1: its key_expression, or a mapped source's `__account`."""
    if is_mapped(funnel, source_name):
        return exp.cast(q.col("__account"), "VARCHAR", copy=False)
    return key_expression(funnel, source_name, resolver)


def source_rows(
    funnel: Funnel, source_name: str, resolver: Resolver, rows: exp.Expr | None = None
) -> exp.Expr:
    """The rows of a source (its view, or `rows`); a mapped one (is_mapped) with its account
    as `__account` (the smallest account when an id has several)."""
    spec = funnel.spec
    view = rows if rows is not None else q.table(source_view(source_name))
    if not is_mapped(funnel, source_name):
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
            copy=False,
        )
        .from_(q.table(source_view(primary)), copy=False)
        .group_by(exp.cast(q.col(pid), "VARCHAR"), copy=False)
    )
    sid = resolver.column(
        source_name, spec.sources[source_name].id_column, f"sources.{source_name}.id"
    )
    joined = (
        exp.select(exp.Star(), q.alias(q.col("map_account", "m"), "__account"), copy=False)
        .from_(exp.alias_(view, "s", table=True), copy=False)
        .join(
            exp.alias_(exp.Subquery(this=mapping), "m", table=True),
            on=exp.EQ(this=exp.cast(q.col(sid, "s"), "VARCHAR"), expression=q.col("map_id", "m")),
            join_type="LEFT",
            copy=False,
        )
    )
    return exp.alias_(exp.Subquery(this=joined), "s", table=True)


def source_aggregate(
    funnel: Funnel,
    source_name: str,
    plans: Sequence[StagePlan],
    attributes: Mapping[str, tuple[str, str]],
    resolver: Resolver,
    lookups: Mapping[str, tuple[LookupJoin, str]],
    lost: tuple[str, exp.Expr] | None,
    first_known: frozenset[str] = frozenset(),
) -> exp.Select:
    """Layer 1 for one source: its rows grouped by key. `attributes`: alias → (source, raw
    column); `lookups`: attribute alias → (lookup, raw lookup column) for the attributes this
    source gets from a lookup joined on; `lost`: the `lost:` outcome's source and row condition
    (a `lost_u` flag when it is this source); `first_known`: the attributes that also get their
    first non-empty value over the rows that are evidence (attribution: first_known)."""
    key = row_key(funnel, source_name, resolver)
    mine = [p for p in plans if p.source == source_name]
    # The time a row brings the key into the funnel: its earliest-declared stage evidence.
    row_times = [q.case(p.condition.copy(), p.time.copy()) for p in mine if p.time is not None]
    columns: list[exp.Expr] = [
        q.alias(key.copy(), Layer.KEY),
        q.alias(exp.Count(this=exp.Star()), Layer.ROWS),
    ]
    if row_times:
        # The latest evidence time of any row: the default maturity anchor (`as_of`).
        columns.append(q.alias(exp.Max(this=latest_time(mine)), Layer.LATEST))
    for plan in mine:
        columns += _stage_columns(plan)
    if lost is not None and lost[0] == source_name:
        columns.append(q.alias(exp.func("bool_or", lost[1].copy()), Layer.LOST))
    row_time = q.coalesce(*row_times) if row_times else exp.null()
    joined: dict[str, tuple[LookupJoin, dict[str, str]]] = {}
    for alias, (attr_source, raw) in attributes.items():
        if attr_source != source_name:
            continue
        if alias in lookups:  # a lookup column, joined on below as column `alias`
            join, lookup_raw = lookups[alias]
            joined.setdefault(join.name, (join, {}))[1][alias] = lookup_raw
            value: exp.Expr = q.col(alias)
        else:
            value = exp.cast(q.col(raw), "VARCHAR", copy=False)
        columns.append(q.alias(q.first_by(value.copy(), row_time.copy()), alias))
        if alias in first_known:
            evidence = q.or_(*[p.condition.copy() for p in mine]) if mine else None
            known = q.and_(q.not_null(value.copy()), evidence)
            first = q.filtered(q.first_by(value, row_time.copy()), known)
            columns.append(q.alias(first, Layer.first_known(alias)))
    rows = join_lookups(source_rows(funnel, source_name, resolver), list(joined.values()))
    return exp.select(*columns, copy=False).from_(rows, copy=False).group_by(key, copy=False)


def latest_time(plans: Sequence[StagePlan]) -> exp.Expr:
    """The latest evidence time of a row over the timed stages it can be evidence for."""
    times = [q.case(p.condition.copy(), p.time.copy()) for p in plans if p.time is not None]
    return q.greatest(*times)


def _stage_columns(plan: StagePlan) -> list[exp.Expr]:
    k = plan.index
    # attribution: each attribute on the row of the stage's evidence (ties: the smallest
    # value:, then the smallest attribute, NULLs last — the row a list's item order picks)
    ties = [plan.value] if plan.value is not None else []
    if plan.time is None:
        columns = [q.alias(exp.func("bool_or", plan.condition.copy()), Layer.untimed(k))]
        if plan.value is not None:
            first = q.filtered(q.first_by(plan.value.copy()), plan.condition.copy())
            columns.append(q.alias(first, Layer.value(k)))
        for alias, value in plan.attributes:
            on_row = q.first_by(value.copy(), *[t.copy() for t in ties])
            columns.append(
                q.alias(q.filtered(on_row, plan.condition.copy()), Layer.stage_attribute(k, alias))
            )
        return columns
    if plan.as_list:
        # Each element is {t, v} ({t, s, v} with an item label, evidence: once; then a flag
        # and value per attributed attribute); a stage with only times lists bare times (a
        # third cheaper).
        fields = [("t", plan.time), ("s", plan.item), ("v", plan.value)]
        for alias, value in plan.attributes:  # the flag: NULLs last in every engine
            fields += [(f"n{alias}", q.is_null(value.copy())), (alias, value)]
        present = [(name, e) for name, e in fields if e is not None]
        element: exp.Expr = (
            plan.time.copy()
            if len(present) == 1
            else exp.Struct(
                expressions=[
                    exp.PropertyEQ(this=exp.to_identifier(name), expression=e.copy())
                    for name, e in present
                ]
            )
        )
        # Sorted after aggregating: the element's own order is (time, value), NULLs last,
        # what ARRAY_AGG(… ORDER BY time, value) gave, at 60% of its cost (DuckDB buffers
        # and sorts an ordered aggregate per group).
        listed = q.filtered(exp.ArrayAgg(this=element), plan.condition.copy())
        return [q.alias(exp.ArraySort(this=listed, nulls_first=exp.false()), Layer.times(k))]
    # min() skips NULLs itself: a condition that only asks for a time needs no FILTER (about
    # 5% of this aggregate).
    only_timed = plan.time_column is not None and plan.condition == q.not_null(
        q.col(plan.time_column)
    )
    condition = None if only_timed else plan.condition.copy()
    columns = [q.alias(q.filtered(exp.Min(this=plan.time.copy()), condition), Layer.first_time(k))]
    if plan.value is not None:
        first = q.first_by(plan.value.copy(), plan.time.copy())
        columns.append(q.alias(q.filtered(first, plan.condition.copy()), Layer.value(k)))
    for alias, value in plan.attributes:
        on_row = q.first_by(value.copy(), plan.time.copy(), *[t.copy() for t in ties])
        columns.append(
            q.alias(q.filtered(on_row, plan.condition.copy()), Layer.stage_attribute(k, alias))
        )
    return columns
