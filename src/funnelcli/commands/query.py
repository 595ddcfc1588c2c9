"""Running a report query: compile once against the sources' schema, choose a plan (which
rewrites apply), run it, and locate any value DuckDB could not read.

The plan is a value (`QueryPlan`), chosen from what the engine knows about the sources before
the query runs (sqlmesh's plan builder and evaluator, in small): which sources have one row per
key (checked Parquet copies), which are read per row on trust and checked inside the query
(CSV exports whose first rows repeat no key), and the maturity anchor found by a first pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlglot import exp

from funnelcli.compile import CompiledFunnel, ReportQuery, compile_funnel, rewrites
from funnelcli.engine import AMOUNT, Engine
from funnelcli.errors import DataError, UsageError
from funnelcli.spec import Funnel

_T = TypeVar("_T")
# A repeated key among a CSV's first rows: no per-row trial (an export with repeated ids
# usually repeats them early, and the trial would then be run in vain, on top of the GROUP BY).
TRIAL_HEAD_ROWS = 100_000
# A CSV this small is read per row on trust without checking its first rows: the check inside
# the query covers every row for the price of one statement fewer (the bundled sample's report
# runs 5 statements, not 6), and a repeated id costs a second small query, not a large one.
TRUST_WITHOUT_HEAD_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class QueryPlan:
    """How to run a compiled report query; `apply` gives the query that runs."""

    per_row: frozenset[str] = frozenset()  # known to have one row per key (checked copies)
    trusted: frozenset[str] = frozenset()  # read per row on trust, checked in the same query
    as_of: datetime | None = None  # the default anchor, found by a first pass
    materialize: bool = False  # keep the per-key layer once (a given as_of, not streamed)
    window_end: bool = False  # entry_at + window computed once per key (DuckDB)

    def apply(self, compiled: CompiledFunnel) -> CompiledFunnel:
        """The compiled query with this plan's rewrites (copied once, then rewritten in place,
        as sqlglot's optimizer threads its rules)."""
        if not (
            self.per_row
            or self.trusted
            or self.as_of is not None
            or self.materialize
            or self.window_end
        ):
            return compiled
        compiled = replace(compiled, query=compiled.query.copy())
        if self.per_row:
            compiled = rewrites.read_per_row(compiled, self.per_row, copy=False)
        if self.trusted:
            compiled = rewrites.check_keys(compiled, self.trusted, copy=False)
        if self.as_of is not None:
            compiled = rewrites.anchor_at(compiled, self.as_of, copy=False)
        if self.materialize:
            compiled = rewrites.materialize(compiled, copy=False)
        if self.window_end:
            compiled = rewrites.share_window_end(compiled, copy=False)
        return compiled

    def attempts(self) -> tuple[QueryPlan, ...]:
        """This plan, then (when it trusts a source) the plan whose result always stands."""
        if not self.trusted:
            return (self,)
        return (self, replace(self, trusted=frozenset()))


def compile_for(engine: Engine, funnel: Funnel, query: ReportQuery | None = None) -> CompiledFunnel:
    """Compile against the sources' real schema, so unknown columns are caught with a hint."""
    return compile_funnel(funnel, engine.schema(), query)


def plan_query(engine: Engine, compiled: CompiledFunnel, query: ReportQuery) -> QueryPlan:
    """The plan for `compiled` over this engine's sources.

    A copy's one-row-per-key check is a stored result, run once per copy; a CSV is not checked
    up front (it would cost about what it saves), only its first rows, and then it is read per
    row on trust with the check inside the report query. When every source is read per row from
    a copy, the layers stream (reading them twice is cheap), and the default anchor comes from
    a first pass instead of a subquery that would keep the per-key layer in memory.
    """
    if engine.remote:  # the rewrites are DuckDB's execution tactics; Spark plans for itself
        return QueryPlan()
    candidates = rewrites.per_row_candidates(compiled)
    copies = set(engine.copies)
    per_row = frozenset(
        s for s in candidates if s in copies and _holds(engine, rewrites.key_check(compiled, s), s)
    )
    trusted = frozenset(
        s
        for s in candidates
        if s not in copies
        and (
            _small(engine, s) or _holds(engine, rewrites.key_check(compiled, s, TRIAL_HEAD_ROWS), s)
        )
    )
    stream = bool(per_row) and per_row == set(compiled.source_names)
    as_of = None
    if query.as_of is None and stream:
        as_of = _first(engine, compiled.anchor_query)["as_of"]
    return QueryPlan(
        per_row=per_row,
        trusted=trusted,
        as_of=as_of,
        materialize=query.as_of is not None and not stream,
        window_end=True,
    )


def run_planned(
    engine: Engine,
    compiled: CompiledFunnel,
    plan: QueryPlan,
    statement: Callable[[CompiledFunnel], exp.Expr] = lambda c: c.query,
    explain: Callable[[str], None] | None = None,
) -> tuple[CompiledFunnel, list[dict[str, Any]]]:
    """Run `statement` of the planned query; when a source read per row on trust turns out to
    repeat a key, run it again without the trust. A value DuckDB cannot read is located (file,
    row, column) before the error reaches the user."""
    for attempt in plan.attempts():
        final = attempt.apply(compiled)
        query = statement(final)
        if explain is not None:
            explain(query.sql(dialect="duckdb", pretty=True))
        rows = located(engine, final, partial(engine.rows, query))
        if final.columns.checks_hold(rows):
            return final, rows
    raise AssertionError("unreachable: a plan without trusted sources always stands")


def run_report_query(
    engine: Engine,
    funnel: Funnel,
    query: ReportQuery,
    explain: Callable[[str], None] | None = None,
) -> tuple[CompiledFunnel, list[dict[str, Any]]]:
    """Compile once, plan, run: the report query's final form and its rows."""
    compiled = compile_for(engine, funnel, query)
    return run_planned(engine, compiled, plan_query(engine, compiled, query), explain=explain)


def anchors(
    engine: Engine, funnel: Funnel, as_of: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """(as_of, first entry) of a report over all the data without running the report: the
    same layers, none of the stage aggregates (CompiledFunnel.anchors)."""
    query = ReportQuery(as_of=as_of)
    compiled = compile_for(engine, funnel, query)
    plan = plan_query(engine, compiled, query)
    _, (row,) = run_planned(engine, compiled, plan, CompiledFunnel.anchors)
    return row["as_of"], row["first_entry"]


def require_entries_by(engine: Engine, funnel: Funnel, as_of: datetime | None) -> None:
    """Nothing entered by `as_of`: an error when that is because it is before all the data
    (naming the first entry), else nothing (a period can be empty)."""
    if as_of is None:
        return
    _, first = anchors(engine, funnel)
    if first is not None and first > as_of:
        raise UsageError(
            f"--as-of {as_of.isoformat(sep=' ')} is before the first entry in the data "
            f"({first.isoformat(sep=' ')}): nothing had entered yet"
        )


def _small(engine: Engine, source: str) -> bool:
    size = engine.size(source)
    return size is not None and size <= TRUST_WITHOUT_HEAD_BYTES


def _holds(engine: Engine, check: exp.Select, source: str) -> bool:
    return bool(_first(engine, check, source)[rewrites.KEY_CHECK])


def _first(engine: Engine, query: exp.Expr, source: str | None = None) -> Mapping[str, Any]:
    return engine.rows(query, source=source)[0]


def located(engine: Engine, compiled: CompiledFunnel, run: Callable[[], _T]) -> _T:
    """`run()`; a DataError is replaced by the first unreadable value it is about, if found."""
    try:
        return run()
    except DataError as error:
        raise (find_unreadable(engine, compiled) or error) from None


def find_unreadable(engine: Engine, compiled: CompiledFunnel) -> DataError | None:
    """The first date or amount that cannot be read, as file, row, column and its text."""
    for source, column, type_name in compiled.typed_columns:
        kind = "a date/time" if type_name == "TIMESTAMP" else "a number"
        if type_name == AMOUNT:
            kind = amount_wording(engine.funnel.spec.currency)
        bad = engine.unreadable(source, column, type_name)
        error = unreadable_error(engine, source, column, bad, kind)
        if error is not None:
            return error
    return None


def amount_wording(currency: str | None) -> str:
    """What an amount must be: with `currency:`, one in it (another currency's mark is never
    summed as if it were)."""
    unit = f" in {currency}" if currency else ""
    return f"an amount{unit} (rules: docs/money.md)"


def unreadable_error(
    engine: Engine, source: str, column: str, bad: exp.Expr, what: str
) -> DataError | None:
    """ "cannot read '…' as `what`" at the file, row and column of the first value of `column`
    where `bad` holds; None when there is none."""
    found = engine.locate(source, column, bad)
    if found is None:
        return None
    row, raw = found
    line = engine.lines_of(source, {row}).get(row)
    return DataError(
        f"cannot read {raw!r} as {what}",
        file=engine.files[source].label,
        row=None if line else row,
        line=line,
        column=column,
    )


def count_unparseable(engine: Engine, compiled: CompiledFunnel) -> dict[str, int]:
    """ "source.column" → how many non-empty amounts sql/amounts.py cannot read, per value
    column."""
    return {
        f"{source}.{column}": engine.count_unparseable(source, column)
        for source, column, type_name in compiled.typed_columns
        if type_name == AMOUNT
    }
