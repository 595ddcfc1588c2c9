"""Running the report query's per-key layer (compile/per_id.py): the same compile, plan and
reading of unreadable values as `funnel report`, listed instead of aggregated."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlglot import exp

from funnelcli.commands.query import located, plan_query
from funnelcli.compile import CompiledFunnel, ReportQuery
from funnelcli.compile.per_id import IdRow, PerIdQuery, compile_per_id
from funnelcli.engine import Engine
from funnelcli.errors import UsageError
from funnelcli.spec import Attempts, Funnel


@dataclass(frozen=True)
class ListRequest:
    """The options every per-key command shares with `funnel report` (naive UTC)."""

    since: datetime | None = None
    until: datetime | None = None
    as_of: datetime | None = None

    @property
    def query(self) -> ReportQuery:
        return ReportQuery(since=self.since, until=self.until, as_of=self.as_of)


@dataclass(frozen=True)
class PerIdRun:
    """A per-key query planned on an engine: run statements of its final form."""

    engine: Engine
    per_id: PerIdQuery
    final: CompiledFunnel

    def rows(self, statement: Callable[[CompiledFunnel], exp.Expr]) -> list[dict[str, Any]]:
        """Run a statement over the planned query; an unreadable value is located."""
        query = statement(self.final)
        return located(self.engine, self.final, partial(self.engine.rows, query))

    def ids(self, *, key: str | None = None, waiting_at: int | None = None) -> list[IdRow]:
        """The cohort's keys (those waiting at a stage; or the one `key`, whatever its
        cohort)."""
        statement = partial(self.per_id.statement, key=key, waiting_at=waiting_at)
        return self.per_id.parse(self.rows(statement))


def refuse_each(funnel: Funnel, command: str) -> None:
    """`attempts: each`: a list of keys (stalled, drivers) or of leads per channel (roi) is
    not defined per attempt yet (docs/semantics.md, Attempts): exit 2, one line."""
    if funnel.spec.attempts is Attempts.each:
        raise UsageError(
            f"funnel {command} does not support attempts: each yet (its rows are keys, not "
            "attempts); use funnel report, or attempts: first or best"
        )


def plan_per_id(
    engine: Engine, funnel: Funnel, request: ListRequest, attributes: Sequence[str] = ()
) -> PerIdRun:
    """Compile the report query with `attributes` and plan it as the report plans it; a
    source is never read per row on trust here (its key check lives in the report's
    aggregate row, which a list has none of)."""
    per_id = compile_per_id(funnel, engine.schema(), request.query, attributes)
    plan = replace(plan_query(engine, per_id.compiled, request.query), trusted=frozenset())
    return PerIdRun(engine, per_id, plan.apply(per_id.compiled))


def stage_index(funnel: Funnel, name: str, option: str) -> int:
    """The 1-based position of a stage named on the command line."""
    names = [s.name for s in funnel.spec.stages]
    if name in names:
        return names.index(name) + 1
    from funnelcli.spec import did_you_mean

    raise UsageError(f"{option} {name}: no such stage{did_you_mean(name, names, known='stages')}")
