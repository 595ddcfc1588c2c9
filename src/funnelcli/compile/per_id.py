"""The report query's per-key layer as a list: one row per key with its stage times.

`stalled`, `trace` and `drivers` read the *same* compiled query as the report (its WITH
layers, after the plan's rewrites) and select from its `scored` layer instead of aggregating
it, so every list agrees with the report's counts by construction: the cohort, the qualifying
times, the reached flags and the attributes are the report's own columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlglot import exp

from funnelcli.compile.columns import NONE_GROUP, Layer
from funnelcli.compile.funnel import CompiledFunnel, ReportQuery, Schema, compile_funnel
from funnelcli.compile.layers import cohort, raw_minima
from funnelcli.spec import Funnel
from funnelcli.sql import ast as q

REST = "__rest"  # drivers: the value column of conversion_by()


class IdStage(NamedTuple):
    """One key at one stage, as the report query sees it (a tuple: lists hold millions)."""

    earliest: datetime | None  # the earliest evidence time, before any rule (m_k)
    untimed: bool  # has evidence without a time (u_k)
    qualified_at: datetime | None  # the earliest qualifying time (t_k)
    value: float | None  # the stage's value on the evidence row that gave t_k
    explicit: bool  # explicitly reached (e_k: qualifying or untimed evidence)
    reached: bool  # counted at this stage (order policy applied)
    backwards: bool  # earliest time before an earlier stage's


@dataclass(frozen=True, slots=True)
class IdRow:
    """One key of the per-key layer."""

    key: str
    entry_at: datetime | None
    in_period: bool
    kept: bool  # the filter: holds
    as_of: datetime | None
    immature: bool
    lost: bool
    attributes: Mapping[str, str]  # attribute name → value as of entry ("(none)" if missing)
    stages: tuple[IdStage, ...]

    @property
    def in_cohort(self) -> bool:
        """Counted by the report: reached stage 1, entered in the period, kept by the filter."""
        return self.stages[0].reached and self.in_period and self.kept


@dataclass(frozen=True)
class PerIdQuery:
    """A compiled report query and how to list its per-key layer."""

    compiled: CompiledFunnel
    minima: tuple[exp.Expr | None, ...]  # each stage's m_k expression over the per-key layer
    untimed: tuple[bool, ...]  # stages whose evidence has no time (a u_k column)
    attributes: tuple[str, ...]  # the attribute names listed (the query's breakdowns)
    has_window: bool
    has_lost: bool

    def statement(
        self,
        final: CompiledFunnel,
        *,
        key: str | None = None,
        in_cohort: bool = True,
        waiting_at: int | None = None,
    ) -> exp.Select:
        """The per-key rows of `final` (this query after the plan's rewrites): the cohort's
        keys (with `waiting_at` k: those that reached stage k and not k+1), or with `key` that
        one key whatever its cohort."""
        columns: list[exp.Expr] = [
            q.alias(q.col(Layer.KEY), "key"),
            q.alias(q.col(Layer.ENTRY), "entry_at"),
            q.alias(q.col(Layer.IN_PERIOD), "in_period"),
            q.alias(q.col(Layer.KEPT), "kept"),
            q.alias(q.col(Layer.AS_OF), "as_of"),
            q.alias(q.col(Layer.IMMATURE) if self.has_window else exp.false(), "immature"),
            q.alias(q.col(Layer.LOST) if self.has_lost else exp.false(), "lost"),
        ]
        for name in self.attributes:
            columns.append(q.alias(q.col(self.compiled.columns.aliases[name]), f"attr_{name}"))
        for k, minimum in enumerate(self.minima, start=1):
            earliest = minimum.copy() if minimum is not None else exp.null()
            untimed = (
                exp.func("coalesce", q.col(Layer.untimed(k)), exp.false())
                if self.untimed[k - 1]
                else exp.false()
            )
            backwards = q.col(Layer.backwards(k)) if k > 1 else exp.false()
            columns += [
                q.alias(q.ts(earliest), f"m{k}"),
                q.alias(untimed, f"u{k}"),
                q.alias(q.col(Layer.qualified_time(k)), f"t{k}"),
                q.alias(q.col(Layer.qualified_value(k)), f"v{k}"),
                q.alias(q.col(Layer.qualified(k)), f"e{k}"),
                q.alias(exp.func("coalesce", q.col(Layer.reached(k)), exp.false()), f"r{k}"),
                q.alias(backwards, f"b{k}"),
            ]
        select = exp.select(*columns, copy=False).from_(q.table(Layer.SCORED), copy=False)
        if key is not None:
            select = select.where(
                exp.EQ(this=q.col(Layer.KEY), expression=exp.Literal.string(key)), copy=False
            )
        elif in_cohort:
            select = select.where(cohort(), copy=False)
            if waiting_at is not None:
                stopped = exp.not_(q.col(Layer.reached(waiting_at + 1)))
                select = select.where(
                    exp.and_(q.col(Layer.reached(waiting_at)), stopped, copy=False), copy=False
                )
        select.set("with_", final.query.args["with_"].copy())
        return select.order_by(q.col(Layer.KEY), copy=False)

    def parse(self, rows: Sequence[Mapping[str, Any]]) -> list[IdRow]:
        """The engine's rows as IdRows."""
        keys = [
            tuple(f"{c}{k}" for c in "mutverb") for k in range(1, len(self.minima) + 1)
        ]  # each stage's column names, spelled once (a list can be millions of keys)
        attributes = [(name, f"attr_{name}") for name in self.attributes]
        found = []
        for row in rows:
            stages = []
            for m, u, t, v, e, r, b in keys:
                value = row[v]
                stages.append(
                    IdStage(
                        row[m],
                        bool(row[u]),
                        row[t],
                        None if value is None else float(value),
                        bool(row[e]),
                        bool(row[r]),
                        bool(row[b]),
                    )
                )
            found.append(
                IdRow(
                    key=str(row["key"]),
                    entry_at=row["entry_at"],
                    in_period=bool(row["in_period"]),
                    kept=bool(row["kept"]),
                    as_of=row["as_of"],
                    immature=bool(row["immature"]),
                    lost=bool(row["lost"]),
                    attributes={name: str(row[column]) for name, column in attributes},
                    stages=tuple(stages),
                )
            )
        return found

    def stage_counts(self, final: CompiledFunnel, k: int) -> exp.Select:
        """The cohort's keys at stage k (`at_stage`) and k+1 (`next_stage`), and the maturity
        anchor (`as_of`)."""
        select = exp.select(
            q.alias(q.count_if(q.col(Layer.reached(k))), "at_stage"),
            q.alias(q.count_if(q.col(Layer.reached(k + 1))), "next_stage"),
            q.alias(exp.Max(this=q.col(Layer.AS_OF)), "as_of"),
            copy=False,
        ).from_(q.table(Layer.SCORED), copy=False)
        select = select.where(cohort(), copy=False)
        select.set("with_", final.query.args["with_"].copy())
        return select

    def conversion_by(
        self,
        final: CompiledFunnel,
        attribute: str,
        start: int,
        target: int,
        bins: Sequence[tuple[float, str]] = (),
    ) -> exp.Select:
        """Per value of `attribute` (as of entry): the cohort's keys that reached stage
        `start` (`n`) and of those the keys that reached `target` (`converted`). With `bins`
        ((lower edge, label), ascending), the attribute is read as a number and grouped by
        the last bin whose lower edge it reaches; no number is the group "(none)"."""
        value: exp.Expr = q.col(self.compiled.columns.aliases[attribute])
        if bins:
            number = exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))
            case = exp.Case()
            for edge, label in reversed(bins[1:]):
                reaches = exp.GTE(this=number.copy(), expression=_number(edge))
                case = case.when(reaches, exp.Literal.string(label), copy=False)
            value = case.when(
                q.not_null(number.copy()), exp.Literal.string(bins[0][1]), copy=False
            ).else_(exp.Literal.string(NONE_GROUP), copy=False)
        started = q.col(Layer.reached(start))
        converted = exp.and_(started.copy(), q.col(Layer.reached(target)), copy=False)
        select = (
            exp.select(
                q.alias(value, REST),
                q.alias(q.count_if(started), "n"),
                q.alias(q.count_if(converted), "converted"),
                q.alias(exp.Max(this=q.col(Layer.AS_OF)), "as_of"),
                copy=False,
            )
            .from_(q.table(Layer.SCORED), copy=False)
            .where(cohort(), copy=False)
            .group_by(value.copy(), copy=False)
        )
        select.set("with_", final.query.args["with_"].copy())
        return select

    def quantiles(
        self, final: CompiledFunnel, attribute: str, start: int, fractions: Sequence[float]
    ) -> exp.Select:
        """`attribute` read as a number over the cohort's keys that reached stage `start`:
        how many have a number (`n`) and its quantiles at `fractions` (`q`, one list)."""
        value = q.col(self.compiled.columns.aliases[attribute])
        number = exp.TryCast(this=value, to=exp.DataType.build("DOUBLE"))
        points = exp.Array(expressions=[_number(f) for f in fractions])
        select = (
            exp.select(
                q.alias(exp.Count(this=number.copy()), "n"),
                q.alias(q.quantiles(number, points), "q"),
                copy=False,
            )
            .from_(q.table(Layer.SCORED), copy=False)
            .where(exp.and_(cohort(), q.col(Layer.reached(start)), copy=False), copy=False)
        )
        select.set("with_", final.query.args["with_"].copy())
        return select


def _number(value: float) -> exp.Expr:
    return exp.Literal.number(repr(float(value)))


def compile_per_id(
    funnel: Funnel,
    schema: Schema,
    query: ReportQuery | None = None,
    attributes: Sequence[str] = (),
) -> PerIdQuery:
    """The report query for `query` (plus `attributes` as breakdowns, so the per-key layer
    carries their values as of entry), ready to be listed per key."""
    query = query or ReportQuery()
    wanted = tuple(dict.fromkeys(attributes))
    breakdowns = tuple(query.breakdowns) + tuple((a,) for a in wanted)
    compiled = compile_funnel(
        funnel,
        schema,
        ReportQuery(since=query.since, until=query.until, as_of=query.as_of, breakdowns=breakdowns),
    )
    plans = compiled.plans  # as the layers read them (list items, attributed fields)
    return PerIdQuery(
        compiled=compiled,
        minima=tuple(raw_minima(plans)),
        untimed=tuple(p.time is None for p in plans),
        attributes=wanted,
        has_window=funnel.spec.window is not None,
        has_lost=funnel.spec.lost is not None,
    )
