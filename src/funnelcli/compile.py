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
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from funnelcli.duration import Duration
from funnelcli.errors import SpecError
from funnelcli.expressions import ConditionError, condition_columns, parse_condition
from funnelcli.result import NONE_GROUP
from funnelcli.spec import Funnel, Grain, Order, Shape, SourceSpec, StageSpec, did_you_mean

KEY = "key"
ROWS = "rows"
LATEST = "latest"


@dataclass(frozen=True)
class ReportQuery:
    """The options that shape a report's SQL (everything else comes from the spec)."""

    since: datetime | None = None
    until: datetime | None = None
    as_of: datetime | None = None
    breakdowns: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class CompiledFunnel:
    """The report query and what its output columns mean."""

    query: exp.Select
    stage_names: tuple[str, ...]
    breakdowns: tuple[tuple[str, ...], ...]
    group_columns: dict[str, str]  # attribute name → output column holding its group value
    source_names: tuple[str, ...]
    typed_columns: tuple[tuple[str, str, str], ...]  # (source, raw header, SQL type) cast by us

    def sql(self, *, pretty: bool = True, dialect: str = "duckdb") -> str:
        return self.query.sql(dialect=dialect, pretty=pretty)


def source_view(name: str) -> str:
    """The DuckDB view name a source is registered under."""
    return f"source_{name}"


def table(name: str) -> exp.Table:
    """A table or view reference by a quoted name."""
    return exp.Table(this=exp.to_identifier(name, quoted=True))


# --- small AST builders -------------------------------------------------------------------


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _alias(expression: exp.Expression, name: str) -> exp.Alias:
    return exp.alias_(expression, name, quoted=True)


def _ts(expression: exp.Expression) -> exp.Expression:
    return exp.cast(expression, "TIMESTAMP")


def _ts_literal(moment: datetime) -> exp.Expression:
    return exp.cast(exp.Literal.string(moment.isoformat(sep=" ")), "TIMESTAMP")


def _interval(duration: Duration) -> exp.Expression:
    if duration.months:
        return exp.Interval(this=exp.Literal.string(str(duration.months)), unit=exp.var("MONTH"))
    return exp.Interval(this=exp.Literal.string(str(duration.seconds)), unit=exp.var("SECOND"))


def _and(*conditions: exp.Expression | None) -> exp.Expression:
    present = [c for c in conditions if c is not None]
    return exp.and_(*present) if present else exp.true()


def _or(*conditions: exp.Expression | None) -> exp.Expression:
    present = [c for c in conditions if c is not None]
    return exp.or_(*present) if present else exp.false()


def _case(condition: exp.Expression, then: exp.Expression) -> exp.Expression:
    return exp.Case().when(condition, then)


def _filtered(aggregate: exp.Expression, condition: exp.Expression | None) -> exp.Expression:
    if condition is None:
        return aggregate
    return exp.Filter(this=aggregate, expression=exp.Where(this=condition))


def _first_by(value: exp.Expression, *order: exp.Expression) -> exp.Expression:
    """first(value ORDER BY order..., value): deterministic even when the order ties."""
    keys = [exp.Ordered(this=o, nulls_first=False) for o in (*order, value)]
    return exp.First(this=exp.Order(this=value, expressions=keys))


def _epoch(expression: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="epoch", expressions=[expression])


def _first_element(array: exp.Expression) -> exp.Expression:
    # list_extract, not a bracket: sqlglot shifts bracket indexes between dialects.
    return exp.Anonymous(this="list_extract", expressions=[array, exp.Literal.number(1)])


def _count_if(condition: exp.Expression) -> exp.Expression:
    return _filtered(exp.Count(this=exp.Star()), condition)


def _coalesce(*expressions: exp.Expression) -> exp.Expression:
    if len(expressions) == 1:
        return expressions[0]
    return exp.Coalesce(this=expressions[0], expressions=list(expressions[1:]))


# --- column resolution --------------------------------------------------------------------


@dataclass(frozen=True)
class _Resolver:
    """Maps the YAML's column names to raw headers, with errors pointing at the YAML key."""

    funnel: Funnel
    headers: Mapping[str, Sequence[str]]

    def column(self, source_name: str, name: str, key: str) -> str:
        source = self.funnel.spec.sources[source_name]
        raw = source.column(name)
        available = self.headers.get(source_name)
        if available is not None and raw not in available:
            shown = f"'{name}'" if raw == name else f"'{name}' (header '{raw}')"
            raise self.funnel.error(
                key,
                f"column {shown} not found in {_file_label(source)}"
                f"{did_you_mean(raw, list(available))}",
            )
        return raw

    def attribute_source(self, name: str, key: str | None) -> tuple[str, str]:
        """(source, raw header) of an attribute: the first source that has the column.

        `key` is the YAML key that named it; None when it came from the command line (--by).
        """
        for source_name, source in self.funnel.spec.sources.items():
            raw = source.column(name)
            if raw in self.headers.get(source_name, ()):
                return source_name, raw
        everything = sorted({h for hs in self.headers.values() for h in hs})
        files = ", ".join(_file_label(s) for s in self.funnel.spec.sources.values())
        message = f"column '{name}' not found in {files}{did_you_mean(name, everything)}"
        if key is None:
            raise SpecError(f"--by {name}: {message}", file=self.funnel.file)
        raise self.funnel.error(key, message)

    def condition(
        self,
        text: str,
        source_name: str | None,
        key: str,
        attributes: Mapping[str, str] | None = None,
    ) -> exp.Expression:
        def resolve(name: str) -> str:
            if attributes is not None:
                return attributes[name]
            assert source_name is not None
            return self.column(source_name, name, key)

        try:
            return parse_condition(text, resolve)
        except ConditionError as exc:
            raise self.funnel.error(key, str(exc)) from None


def _file_label(source: SourceSpec) -> str:
    return source.path.rsplit("/", 1)[-1]


# --- the plan: which stage reads what -----------------------------------------------------


@dataclass(frozen=True)
class _StagePlan:
    index: int  # 1-based position in the funnel
    spec: StageSpec
    source: str
    condition: exp.Expression  # row-level: this row is evidence for the stage
    time: exp.Expression | None  # row-level evidence time; None for untimed stages
    value: exp.Expression | None
    as_list: bool  # strict funnel over a multi-row source: keep every evidence time
    time_column: str | None = None  # raw header behind `time`
    value_column: str | None = None  # raw header behind `value`


def _stage_plans(funnel: Funnel, resolver: _Resolver) -> list[_StagePlan]:
    spec = funnel.spec
    plans = []
    for position, stage in enumerate(spec.stages, start=1):
        key = f"stages[{position - 1}]"
        source_name = spec.stage_source(stage)
        source = spec.sources[source_name]
        conditions: list[exp.Expression] = []
        time_column = stage.at or (source.at if source.shape is not Shape.wide else None)
        time = raw_time = None
        if time_column is not None:
            time_key = f"{key}.at" if stage.at else f"sources.{source_name}.at"
            raw_time = resolver.column(source_name, time_column, time_key)
            time = _ts(_col(raw_time))
            # Test the raw column, not the cast: DuckDB 2.0 pushes a repeated cast into the CSV
            # reader and then drops the UTC offset of timestamptz text.
            conditions.append(exp.Not(this=exp.Is(this=_col(raw_time), expression=exp.Null())))
        if stage.match is not None:
            assert source.stage is not None
            stage_column = resolver.column(
                source_name, source.stage, f"sources.{source_name}.stage"
            )
            values = [exp.Literal.string(v) for v in stage.match]
            conditions.append(
                exp.In(this=exp.cast(_col(stage_column), "VARCHAR"), expressions=values)
            )
        if stage.when is not None:
            when = resolver.condition(stage.when, source_name, f"{key}.when")
            conditions.append(exp.Paren(this=when))
        value = raw_value = None
        if stage.value is not None:
            raw_value = resolver.column(source_name, stage.value, f"{key}.value")
            value = exp.cast(_col(raw_value), "DOUBLE")
        plans.append(
            _StagePlan(
                index=position,
                spec=stage,
                source=source_name,
                condition=_and(*conditions),
                time=time,
                value=value,
                as_list=(
                    spec.order is Order.strict and source.shape is Shape.long and time is not None
                ),
                time_column=raw_time,
                value_column=raw_value,
            )
        )
    return plans


def _attribute_names(funnel: Funnel, breakdowns: Sequence[Sequence[str]]) -> list[str]:
    names: list[str] = []
    for group in breakdowns:
        for name in group:
            if name not in names:
                names.append(name)
    if funnel.spec.filter:
        try:
            filter_columns = condition_columns(funnel.spec.filter)
        except Exception as exc:  # a parse error is reported with its key below
            raise funnel.error("filter", f"not a valid condition: {exc}") from None
        names.extend(n for n in filter_columns if n not in names)
    return names


# --- layer 1: one aggregation per source --------------------------------------------------


def _key_expression(funnel: Funnel, source_name: str, resolver: _Resolver) -> exp.Expression:
    spec = funnel.spec
    source = spec.sources[source_name]
    if spec.grain is Grain.account and source.account is not None:
        raw = resolver.column(source_name, source.account, f"sources.{source_name}.account")
    else:
        raw = resolver.column(source_name, source.id, f"sources.{source_name}.id")
    return exp.cast(_col(raw), "VARCHAR")


def _source_from(funnel: Funnel, source_name: str, resolver: _Resolver) -> exp.Expression:
    """The rows of a source; at account grain, a source without account: maps its ids via the
    first source's id → account pairs (the smallest account when an id has several)."""
    spec = funnel.spec
    view = table(source_view(source_name))
    source = spec.sources[source_name]
    if spec.grain is Grain.lead or source.account is not None:
        return view
    primary = spec.primary_source
    primary_spec = spec.sources[primary]
    assert primary_spec.account is not None
    pid = resolver.column(primary, primary_spec.id, f"sources.{primary}.id")
    pacc = resolver.column(primary, primary_spec.account, f"sources.{primary}.account")
    mapping = (
        exp.select(
            _alias(exp.cast(_col(pid), "VARCHAR"), "map_id"),
            _alias(exp.Min(this=exp.cast(_col(pacc), "VARCHAR")), "map_account"),
        )
        .from_(table(source_view(primary)))
        .group_by(exp.cast(_col(pid), "VARCHAR"))
    )
    sid = resolver.column(source_name, source.id, f"sources.{source_name}.id")
    joined = (
        exp.select(exp.Star(), _alias(_col("map_account", "m"), "__account"))
        .from_(exp.alias_(view, "s", table=True))
        .join(
            exp.alias_(exp.Subquery(this=mapping), "m", table=True),
            on=exp.EQ(this=exp.cast(_col(sid, "s"), "VARCHAR"), expression=_col("map_id", "m")),
            join_type="LEFT",
        )
    )
    return exp.alias_(exp.Subquery(this=joined), "s", table=True)


def _source_aggregate(
    funnel: Funnel,
    source_name: str,
    plans: list[_StagePlan],
    attributes: Mapping[str, tuple[str, str]],
    resolver: _Resolver,
) -> exp.Select:
    spec = funnel.spec
    source = spec.sources[source_name]
    mapped = spec.grain is Grain.account and source.account is None
    key = (
        exp.cast(_col("__account"), "VARCHAR")
        if mapped
        else _key_expression(funnel, source_name, resolver)
    )
    mine = [p for p in plans if p.source == source_name]
    # The time a row brings the key into the funnel: its earliest-declared stage evidence.
    row_times = [_case(p.condition.copy(), p.time.copy()) for p in mine if p.time is not None]
    row_time = _coalesce(*row_times) if row_times else exp.null()
    columns: list[exp.Expression] = [_alias(key, KEY), _alias(exp.Count(this=exp.Star()), ROWS)]
    if row_times:
        # The latest evidence time of any row: the default maturity anchor (`as_of`).
        row_latest = (
            exp.func("greatest", *[t.copy() for t in row_times])
            if len(row_times) > 1
            else row_times[0].copy()
        )
        columns.append(_alias(exp.Max(this=row_latest), LATEST))
    for plan in mine:
        k = plan.index
        if plan.time is None:
            columns.append(_alias(exp.func("bool_or", plan.condition.copy()), f"u_{k}"))
            if plan.value is not None:
                columns.append(
                    _alias(_filtered(_first_by(plan.value.copy()), plan.condition.copy()), f"v_{k}")
                )
            continue
        if plan.as_list:
            element: exp.Expression = exp.Struct(
                expressions=[
                    exp.PropertyEQ(this=exp.to_identifier("t"), expression=plan.time.copy()),
                    exp.PropertyEQ(
                        this=exp.to_identifier("v"), expression=(plan.value or exp.null()).copy()
                    ),
                ]
            )
            keys = [plan.time] if plan.value is None else [plan.time, plan.value]
            ordered = exp.Order(
                this=element,
                expressions=[exp.Ordered(this=key.copy(), nulls_first=False) for key in keys],
            )
            columns.append(
                _alias(_filtered(exp.ArrayAgg(this=ordered), plan.condition.copy()), f"l_{k}")
            )
            continue
        columns.append(
            _alias(_filtered(exp.Min(this=plan.time.copy()), plan.condition.copy()), f"m_{k}")
        )
        if plan.value is not None:
            columns.append(
                _alias(
                    _filtered(
                        _first_by(plan.value.copy(), plan.time.copy()), plan.condition.copy()
                    ),
                    f"v_{k}",
                )
            )
    for alias, (attr_source, raw) in attributes.items():
        if attr_source == source_name:
            value = exp.cast(_col(raw), "VARCHAR")
            columns.append(_alias(_first_by(value, row_time.copy()), alias))
    return exp.select(*columns).from_(_source_from(funnel, source_name, resolver)).group_by(key)


# --- layers 2-4 ---------------------------------------------------------------------------


def compile_funnel(
    funnel: Funnel, headers: Mapping[str, Sequence[str]], query: ReportQuery | None = None
) -> CompiledFunnel:
    """Build the report query for `funnel`; `headers` are each source's raw column names."""
    query = query or ReportQuery()
    spec = funnel.spec
    resolver = _Resolver(funnel, headers)
    plans = _stage_plans(funnel, resolver)
    breakdowns = _unique_breakdowns(query.breakdowns)
    attribute_names = _attribute_names(funnel, breakdowns)
    attributes: dict[str, tuple[str, str]] = {}
    aliases: dict[str, str] = {}
    by_names = {a for b in breakdowns for a in b}
    for index, name in enumerate(attribute_names):
        alias = f"a_{index}"
        attributes[alias] = resolver.attribute_source(name, None if name in by_names else "filter")
        aliases[name] = alias

    sources = list(spec.sources)
    with_: list[tuple[str, exp.Expression]] = []
    for i, source_name in enumerate(sources):
        with_.append(
            (f"agg_{i}", _source_aggregate(funnel, source_name, plans, attributes, resolver))
        )

    # Layer 2: full outer join of the per-source aggregates on the key.
    stage_columns = _stage_column_origins(plans, sources)
    id_columns: list[exp.Expression] = [
        _alias(_coalesce(*[_col(KEY, f"agg_{i}") for i in range(len(sources))]), KEY)
    ]
    latest_columns: list[str] = []
    for i in range(len(sources)):
        id_columns.append(_alias(_col(ROWS, f"agg_{i}"), f"rows_{i}"))
        if any(p.source == sources[i] and p.time is not None for p in plans):
            latest_columns.append(f"latest_{i}")
            id_columns.append(_alias(_col(LATEST, f"agg_{i}"), f"latest_{i}"))
    for column, i in stage_columns.items():
        id_columns.append(_alias(_col(column, f"agg_{i}"), column))
    for alias, (attr_source, _raw) in attributes.items():
        value = _col(alias, f"agg_{sources.index(attr_source)}")
        id_columns.append(_alias(_coalesce(value, exp.Literal.string(NONE_GROUP)), alias))
    joined = exp.select(*id_columns).from_(table("agg_0"))
    for i in range(1, len(sources)):
        joined = joined.join(
            table(f"agg_{i}"),
            on=exp.EQ(
                this=_col(KEY, f"agg_{i}"),
                expression=_coalesce(*[_col(KEY, f"agg_{j}") for j in range(i)]),
            ),
            join_type="FULL OUTER",
        )
    with_.append(("ids", joined))

    # Raw minima (no window) per stage: entry time, backwards detection, the data's max time.
    def raw_min(plan: _StagePlan) -> exp.Expression | None:
        if plan.time is None:
            return None
        if plan.as_list:
            first = _first_element(_col(f"l_{plan.index}"))
            return exp.Dot(this=first, expression=exp.to_identifier("t"))
        return _col(f"m_{plan.index}")

    minima = [raw_min(p) for p in plans]
    timed_minima = [m for m in minima if m is not None]
    if spec.order is Order.strict or len(timed_minima) == 0:
        entry = (minima[0] or exp.null()).copy()
    else:
        first_min = minima[0]
        rest = (
            exp.func("least", *[m.copy() for m in timed_minima])
            if len(timed_minima) > 1
            else timed_minima[0].copy()
        )
        entry = _coalesce(first_min.copy(), rest) if first_min is not None else rest
    with_.append(("ev", exp.select(exp.Star(), _alias(_ts(entry), "entry_at")).from_(table("ids"))))

    # Layer 3: qualify each stage in order.
    previous = "ev"
    for plan in plans:
        k = plan.index
        name = f"q_{k}"
        with_.append(
            (
                name,
                exp.select(exp.Star(), *_qualify(plan, spec.window, spec.order)).from_(
                    table(previous)
                ),
            )
        )
        previous = name

    with_.append(("per_id", _per_id(funnel, plans, minima, previous, query, aliases)))
    with_.append(("scored", _scored(spec.window, latest_columns, query.as_of)))

    final = _final_aggregate(plans, sources, breakdowns, aliases, query, spec.window is not None)
    for name, body in with_:
        final = final.with_(exp.to_identifier(name, quoted=True), as_=body)
    group_columns = {name: f"g_{aliases[name]}" for b in breakdowns for name in b}
    return CompiledFunnel(
        query=final,
        stage_names=tuple(s.name for s in spec.stages),
        breakdowns=breakdowns,
        group_columns=group_columns,
        source_names=tuple(sources),
        typed_columns=_typed_columns(plans),
    )


def _typed_columns(plans: list[_StagePlan]) -> tuple[tuple[str, str, str], ...]:
    typed: dict[tuple[str, str, str], None] = {}
    for plan in plans:
        if plan.time_column is not None:
            typed[(plan.source, plan.time_column, "TIMESTAMP")] = None
        if plan.value_column is not None:
            typed[(plan.source, plan.value_column, "DOUBLE")] = None
    return tuple(typed)


def _unique_breakdowns(breakdowns: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    seen: list[tuple[str, ...]] = []
    for group in breakdowns:
        clean = tuple(dict.fromkeys(group))
        if clean and not any(set(clean) == set(s) for s in seen):
            seen.append(clean)
    return tuple(seen)


def _stage_column_origins(plans: list[_StagePlan], sources: list[str]) -> dict[str, int]:
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


def _qualify(plan: _StagePlan, window: Duration | None, order: Order) -> list[exp.Expression]:
    """Columns qt_k (qualifying time), qv_k (its value) and qr_k (explicit evidence)."""
    k = plan.index
    previous_time = _col(f"qt_{k - 1}") if k > 1 else None
    strict = order is Order.strict
    if plan.time is None:
        reached: exp.Expression = exp.func("coalesce", _col(f"u_{k}"), exp.false())
        qualified_time: exp.Expression = exp.cast(exp.null(), "TIMESTAMP")
        value = _col(f"v_{k}") if plan.value is not None else exp.null()
    else:

        def bounds(t: exp.Expression) -> exp.Expression:
            checks: list[exp.Expression | None] = []
            if window is not None and k > 1:
                checks.append(
                    exp.LTE(
                        this=t.copy(),
                        expression=exp.Add(this=_col("entry_at"), expression=_interval(window)),
                    )
                )
            if plan.spec.within is not None and previous_time is not None:
                checks.append(
                    _or(
                        exp.Is(this=previous_time.copy(), expression=exp.Null()),
                        exp.LTE(
                            this=t.copy(),
                            expression=exp.Add(
                                this=previous_time.copy(), expression=_interval(plan.spec.within)
                            ),
                        ),
                    )
                )
            if strict and k > 1:
                lower = _coalesce(*[_col(f"qt_{j}") for j in range(k - 1, 0, -1)])
                checks.append(
                    _or(
                        exp.Is(this=lower.copy(), expression=exp.Null()),
                        exp.GTE(this=t.copy(), expression=lower),
                    )
                )
            return _and(*checks)

        if plan.as_list:
            element = exp.to_identifier("e")
            t = exp.Dot(this=exp.column("e"), expression=exp.to_identifier("t"))
            lam = exp.Lambda(this=bounds(t), expressions=[element])
            hit = _first_element(exp.func("list_filter", _col(f"l_{k}"), lam))
            qualified_time = exp.Dot(this=hit, expression=exp.to_identifier("t"))
            value = exp.Dot(this=hit.copy(), expression=exp.to_identifier("v"))
        else:
            m = _col(f"m_{k}")
            qualified_time = _case(bounds(m), m.copy())
            value = _col(f"v_{k}") if plan.value is not None else exp.null()
        reached = exp.Not(this=exp.Is(this=qualified_time.copy(), expression=exp.Null()))
    if strict and k > 1:
        # An id stops at the first stage it does not reach; later evidence is ignored.
        reached = exp.and_(_col(f"qr_{k - 1}"), reached)
        qualified_time = _case(_col(f"qr_{k - 1}"), qualified_time)
    value = (
        _case(reached.copy(), value) if plan.value is not None else exp.cast(exp.null(), "DOUBLE")
    )
    return [
        _alias(_ts(qualified_time), f"qt_{k}"),
        _alias(exp.cast(value, "DOUBLE"), f"qv_{k}"),
        _alias(reached, f"qr_{k}"),
    ]


def _per_id(
    funnel: Funnel,
    plans: list[_StagePlan],
    minima: list[exp.Expression | None],
    previous: str,
    query: ReportQuery,
    aliases: Mapping[str, str],
) -> exp.Select:
    spec = funnel.spec
    n = len(plans)
    columns: list[exp.Expression] = [exp.Star()]
    for k in range(1, n + 1):
        if spec.order is Order.backfill:
            reached = _or(*[_col(f"qr_{j}") for j in range(k, n + 1)])
        else:
            reached = _col(f"qr_{k}")
        columns.append(
            _alias(
                exp.and_(exp.Not(this=exp.Is(this=_col(KEY), expression=exp.Null())), reached),
                f"r_{k}",
            )
        )
    # Backwards: a stage's earliest time precedes an earlier stage's earliest time.
    for k in range(2, n + 1):
        current = minima[k - 1]
        earlier = [m for m in minima[: k - 1] if m is not None]
        if current is None or not earlier:
            flag: exp.Expression = exp.false()
        else:
            latest = (
                exp.func("greatest", *[m.copy() for m in earlier])
                if len(earlier) > 1
                else earlier[0].copy()
            )
            flag = exp.func("coalesce", exp.LT(this=current.copy(), expression=latest), exp.false())
        columns.append(_alias(flag, f"bw_{k}"))
    in_period: list[exp.Expression] = []
    if query.since is not None:
        in_period.append(exp.GTE(this=_col("entry_at"), expression=_ts_literal(query.since)))
    if query.until is not None:
        in_period.append(exp.LT(this=_col("entry_at"), expression=_ts_literal(query.until)))
    period = exp.func("coalesce", _and(*in_period), exp.false()) if in_period else exp.true()
    columns.append(_alias(period, "in_period"))
    if spec.filter:
        resolver = _Resolver(funnel, {})
        condition = resolver.condition(spec.filter, None, "filter", attributes=aliases)
        kept = exp.func("coalesce", exp.Paren(this=condition), exp.false())
    else:
        kept = exp.true()
    columns.append(_alias(kept, "kept"))
    return exp.select(*columns).from_(table(previous))


def _scored(
    window: Duration | None, latest_columns: list[str], as_of: datetime | None
) -> exp.Select:
    """Adds `as_of` (the maturity anchor) and `immature` (entered less than a window before it)."""
    if as_of is not None:
        anchor: exp.Expression = _ts_literal(as_of)
    elif latest_columns:
        latest = [exp.Max(this=_col(c)) for c in latest_columns]
        anchor = exp.Subquery(
            this=exp.select(exp.func("greatest", *latest) if len(latest) > 1 else latest[0])
            .from_(table("per_id"))
            .where(exp.Not(this=exp.Is(this=_col(KEY), expression=exp.Null())))
        )
    else:
        anchor = exp.cast(exp.null(), "TIMESTAMP")
    columns: list[exp.Expression] = [exp.Star(), _alias(_ts(anchor), "as_of")]
    if window is not None:
        matures = exp.Add(this=_col("entry_at"), expression=_interval(window))
        columns.append(
            _alias(
                exp.func(
                    "coalesce", exp.GT(this=matures, expression=_ts(anchor.copy())), exp.false()
                ),
                "immature",
            )
        )
    return exp.select(*columns).from_(table("per_id"))


def _final_aggregate(
    plans: list[_StagePlan],
    sources: list[str],
    breakdowns: tuple[tuple[str, ...], ...],
    aliases: Mapping[str, str],
    query: ReportQuery,
    has_window: bool,
) -> exp.Select:
    n = len(plans)
    cohort = exp.and_(_col("r_1"), _col("in_period"), _col("kept"))

    def in_cohort(*more: exp.Expression) -> exp.Expression:
        return exp.and_(cohort.copy(), *more) if more else cohort.copy()

    columns: list[exp.Expression] = []
    group_aliases = list(dict.fromkeys(aliases[a] for b in breakdowns for a in b))
    for alias in group_aliases:
        columns.append(_alias(_col(alias), f"g_{alias}"))
    columns.append(_alias(_count_if(in_cohort()), "entered"))
    if has_window:
        columns.append(_alias(_count_if(in_cohort(_col("immature"))), "immature_ids"))
    else:
        columns.append(_alias(exp.Literal.number(0), "immature_ids"))
    backwards = [_col(f"bw_{k}") for k in range(2, n + 1)]
    columns.append(_alias(_count_if(in_cohort(_or(*backwards))), "backwards_ids"))
    columns.append(_alias(_filtered(exp.Min(this=_col("entry_at")), in_cohort()), "first_entry"))
    columns.append(_alias(_filtered(exp.Max(this=_col("entry_at")), in_cohort()), "last_entry"))
    for k in range(1, n + 1):
        columns.append(_alias(_count_if(in_cohort(_col(f"r_{k}"))), f"s{k}_count"))
        # Summed as DECIMAL: exact, so the total does not depend on thread scheduling.
        exact = exp.cast(_col(f"qv_{k}"), exp.DataType.build("DECIMAL(38, 6)"))
        columns.append(_alias(_filtered(exp.Sum(this=exact), in_cohort()), f"s{k}_value"))
        if k > 1:
            columns.append(_alias(_count_if(in_cohort(_col(f"bw_{k}"))), f"s{k}_backwards"))
        for label, origin in (("prev", k - 1), ("entry", 1)):
            if k == 1 or origin < 1:
                continue
            seconds = exp.Sub(this=_epoch(_col(f"qt_{k}")), expression=_epoch(_col(f"qt_{origin}")))
            days = exp.Div(this=exp.Paren(this=seconds), expression=exp.Literal.number(86400))
            columns.append(
                _alias(_filtered(exp.Count(this=days.copy()), in_cohort()), f"s{k}_{label}_n")
            )
            for q in (0.5, 0.9):
                quantile = exp.func("quantile_cont", days.copy(), exp.Literal.number(q))
                columns.append(
                    _alias(_filtered(quantile, in_cohort()), f"s{k}_{label}_p{int(q * 100)}")
                )
    # Data quality: over every key read (meaningful on the grand-total row).
    funnel_member = _col("r_1")
    for i in range(len(sources)):
        columns.append(_alias(exp.Sum(this=_col(f"rows_{i}")), f"rows_read_{i}"))
        columns.append(
            _alias(
                _filtered(
                    exp.Sum(this=_col(f"rows_{i}")), exp.Is(this=_col(KEY), expression=exp.Null())
                ),
                f"rows_without_id_{i}",
            )
        )
    if query.since is not None or query.until is not None:
        columns.append(
            _alias(
                _count_if(
                    exp.and_(
                        funnel_member.copy(), exp.Is(this=_col("entry_at"), expression=exp.Null())
                    )
                ),
                "ids_without_entry_time",
            )
        )
    else:
        columns.append(_alias(exp.Literal.number(0), "ids_without_entry_time"))
    columns.append(
        _alias(
            _count_if(
                exp.and_(
                    funnel_member.copy(),
                    exp.Not(this=_col("in_period")),
                    exp.Not(this=exp.Is(this=_col("entry_at"), expression=exp.Null())),
                )
            ),
            "ids_outside_period",
        )
    )
    columns.append(
        _alias(
            _count_if(
                exp.and_(funnel_member.copy(), _col("in_period"), exp.Not(this=_col("kept")))
            ),
            "ids_filtered_out",
        )
    )
    columns.append(_alias(exp.Max(this=_col("as_of")), "as_of"))
    select = exp.select(*columns).from_(table("scored"))
    if group_aliases:
        sets = [exp.Tuple(expressions=[])]
        for group in breakdowns:
            sets.append(exp.Tuple(expressions=[_col(aliases[a]) for a in group]))
        select = select.group_by(exp.GroupingSets(expressions=sets))
    return select
