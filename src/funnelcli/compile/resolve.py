"""Which columns each stage reads: YAML names resolved to raw headers, as sqlglot expressions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlglot import exp

from funnelcli.errors import SpecError
from funnelcli.spec import Attempts, Funnel, Order, Shape, SourceSpec, StageSpec, did_you_mean
from funnelcli.spec.hints import closest, find
from funnelcli.sql import ast as q
from funnelcli.sql.amounts import amount, is_whole_type
from funnelcli.sql.conditions import ConditionError, condition_columns, parse_condition
from funnelcli.sql.tables import origin


@dataclass(frozen=True)
class Resolver:
    """Maps the YAML's column names to raw headers, with errors pointing at the YAML key."""

    funnel: Funnel
    headers: Mapping[str, Sequence[str] | Mapping[str, str]]  # names, or names → DuckDB types

    def time(self, source_name: str, raw: str) -> exp.Expr:
        """A time column as a UTC timestamp; text goes through TIMESTAMPTZ so offsets convert.

        Columns DuckDB already typed as dates or timestamps take the cheaper direct cast.
        """
        columns = self.headers.get(source_name)
        sql_type = columns.get(raw, "") if isinstance(columns, Mapping) else ""
        if sql_type == "DATE" or sql_type.startswith("TIMESTAMP"):
            return q.ts(q.col(raw))
        return q.utc_timestamp(q.col(raw))

    def sql_type(self, source_name: str, raw: str) -> str:
        """DuckDB's type of a column when known (headers with types), else ""."""
        columns = self.headers.get(source_name)
        return columns.get(raw, "") if isinstance(columns, Mapping) else ""

    def column(self, source_name: str, name: str, key: str) -> str:
        source = self.funnel.spec.sources[source_name]
        raw = source.column(name)
        available = self.headers.get(source_name)
        if available is None or raw in available:
            return raw
        found = find(raw, available)  # the one tolerant rule (case, width, spaces)
        if found is None:
            shown = f"'{name}'" if raw == name else f"'{name}' (header '{raw}')"
            raise self.funnel.error(
                key,
                f"column {shown} not found in {_file_label(source)}{_hint(raw, list(available))}",
            )
        return found

    def attribute_source(self, name: str, key: str | None) -> tuple[str, str]:
        """(source, raw header) of an attribute: the first source that has the column.

        `key` is the YAML key that named it; None when it came from the command line (--by).
        """
        spec = self.funnel.spec
        for source_name in spec.funnel_sources + spec.lookup_sources:  # lookups last
            found = find(spec.sources[source_name].column(name), self.headers.get(source_name, ()))
            if found is not None:
                return source_name, found
        everything = sorted({h for hs in self.headers.values() for h in hs})
        files = ", ".join(_file_label(s) for s in self.funnel.spec.sources.values())
        message = f"column '{name}' not found in {files}{_hint(name, everything)}"
        if key is None:
            raise SpecError(f"--by {name}: {message}", file=self.funnel.file)
        raise self.funnel.error(key, message)

    def condition(
        self,
        text: str,
        source_name: str | None,
        key: str,
        attributes: Mapping[str, str] | None = None,
        types: Mapping[str, str] | None = None,
    ) -> exp.Expr:
        """`text` parsed and allow-listed over a source's columns (`source_name`), or over
        the query's attributes (`attributes`: name → alias, `types`: name → DuckDB type)."""

        def resolve(name: str) -> str:
            if attributes is not None:
                return attributes[name]
            assert source_name is not None
            return self.column(source_name, name, key)

        def type_of(name: str) -> str:
            if types is not None:
                return types.get(name, "")
            assert source_name is not None
            return self.sql_type(source_name, self.column(source_name, name, key))

        try:
            return parse_condition(text, resolve, type_of)
        except ConditionError as exc:
            raise self.funnel.error(key, str(exc)) from None


def _hint(raw: str, available: list[str]) -> str:
    """' (did you mean …?)' comparing tolerant spellings (hints.closest), else the list."""
    return did_you_mean(raw, available, guess=closest(raw, available))


def _file_label(source: SourceSpec) -> str:
    return origin(source).rsplit("/", 1)[-1]


@dataclass(frozen=True)
class StagePlan:
    index: int  # 1-based position in the funnel
    spec: StageSpec
    source: str
    condition: exp.Expr  # row-level: this row is evidence for the stage
    time: exp.Expr | None  # row-level evidence time; None for untimed stages
    value: exp.Expr | None
    as_list: bool  # strict funnel over a multi-row source: keep every evidence time
    time_column: str | None = None  # raw header behind `time`
    value_column: str | None = None  # raw header behind `value`
    # evidence: once (compile/once.py): the row's label (its stage value) that, with the
    # time, names one piece of evidence the stage shares with others; with as_list
    item: exp.Expr | None = None
    # attribution: last / stage:NAME (compile/attribution.py): (attribute alias, its value on
    # this stage's evidence rows), kept beside each piece of evidence
    attributes: tuple[tuple[str, exp.Expr], ...] = ()


def not_after(time: exp.Expr, as_of: datetime | None) -> exp.Expr | None:
    """`time <= as_of`: the point-in-time rule (docs/semantics.md, "As of"): a row whose time is
    after the as-of instant is no evidence. None without an as-of."""
    if as_of is None:
        return None
    return exp.LTE(this=time, expression=q.ts_literal(as_of))


def stage_plans(
    funnel: Funnel, resolver: Resolver, as_of: datetime | None = None
) -> list[StagePlan]:
    """Each stage's evidence rule; with `as_of`, evidence timed after it is not evidence."""
    return [
        stage_plan(funnel, resolver, stage, position, f"stages[{position - 1}]", as_of)
        for position, stage in enumerate(funnel.spec.stages, start=1)
    ]


def stage_plan(
    funnel: Funnel,
    resolver: Resolver,
    stage: StageSpec,
    position: int,
    key: str,
    as_of: datetime | None = None,
) -> StagePlan:
    """One stage's evidence rule (also an `exclude:` item's, written like a stage: `key` is
    the YAML key its errors name)."""
    spec = funnel.spec
    source_name = spec.stage_source(stage)
    source = spec.sources[source_name]
    conditions: list[exp.Expr] = []
    time_column = stage.at or (source.at if source.shape is not Shape.wide else None)
    time = raw_time = None
    if time_column is not None:
        time_key = f"{key}.at" if stage.at else f"sources.{source_name}.at"
        raw_time = resolver.column(source_name, time_column, time_key)
        time = resolver.time(source_name, raw_time)
        # Test the raw column, not the cast: DuckDB 2.0 pushes a repeated cast into the CSV
        # reader and then drops the UTC offset of timestamptz text.
        conditions.append(q.not_null(q.col(raw_time)))
        bound = not_after(time.copy(), as_of)
        if bound is not None:
            conditions.append(bound)
    conditions += _matched(resolver, source_name, source, stage.match, stage.when, key)
    value = raw_value = None
    if stage.value is not None:
        raw_value = resolver.column(source_name, stage.value, f"{key}.value")
        sql_type = resolver.sql_type(source_name, raw_value)
        if is_whole_type(sql_type):
            value = exp.cast(q.col(raw_value), "DOUBLE")
        else:  # text such as ¥12,000 or 1.2万: parsed by sql/amounts.py's rules
            parsed = amount(q.col(raw_value), sql_type, spec.currency)
            value = exp.cast(parsed, "DOUBLE")
    return StagePlan(
        index=position,
        spec=stage,
        source=source_name,
        condition=q.and_(*conditions),
        time=time,
        value=value,
        as_list=(
            spec.order is not Order.backfill
            and source.shape is Shape.long
            and time is not None
            # order: any under attempts: first reads each stage's earliest time only
            and not (spec.order is Order.any and spec.attempts is Attempts.first)
        ),
        time_column=raw_time,
        value_column=raw_value,
    )


def lost_condition(
    funnel: Funnel, resolver: Resolver, as_of: datetime | None = None
) -> tuple[str, exp.Expr] | None:
    """(source, row condition) of the `lost:` outcome: evidence like a stage's, untimed (with
    `lost.at` and `as_of`, a loss dated after the as-of is not evidence)."""
    lost = funnel.spec.lost
    if lost is None:
        return None
    source_name = lost.source or funnel.spec.primary_source
    source = funnel.spec.sources[source_name]
    conditions: list[exp.Expr] = []
    if lost.at is not None:
        raw = resolver.column(source_name, lost.at, "lost.at")
        conditions.append(q.not_null(q.col(raw)))
        bound = not_after(resolver.time(source_name, raw), as_of)
        if bound is not None:
            conditions.append(bound)
    conditions += _matched(resolver, source_name, source, lost.match, lost.when, "lost")
    return source_name, q.and_(*conditions)


def _matched(
    resolver: Resolver,
    source_name: str,
    source: SourceSpec,
    match: Sequence[str] | None,
    when: str | None,
    key: str,
) -> list[exp.Expr]:
    """The row conditions of evidence written like a stage (a stage, an `exclude:` item,
    `lost:`): its stage column holds one of `match:` (exact text), and `when:` is true;
    `key`: the YAML key errors name (`stages[2]`, `lost`)."""
    conditions: list[exp.Expr] = []
    if match is not None:
        assert source.stage is not None
        stage_column = resolver.column(source_name, source.stage, f"sources.{source_name}.stage")
        values = [exp.Literal.string(v) for v in match]
        conditions.append(exp.In(this=exp.cast(q.col(stage_column), "VARCHAR"), expressions=values))
    if when is not None:
        conditions.append(exp.Paren(this=resolver.condition(when, source_name, f"{key}.when")))
    return conditions


def attribute_names(funnel: Funnel, breakdowns: Sequence[Sequence[str]]) -> list[str]:
    names: list[str] = []
    for group in breakdowns:
        for name in group:
            if name not in names:
                names.append(name)
    if funnel.spec.filter:
        try:
            filter_columns = condition_columns(funnel.spec.filter)
        except ConditionError as exc:
            raise funnel.error("filter", str(exc)) from None
        except Exception as exc:  # a parse error is reported with its key below
            raise funnel.error("filter", f"not a valid condition: {exc}") from None
        names.extend(n for n in filter_columns if n not in names)
    return names


# --- layer 1: one aggregation per source --------------------------------------------------
