"""`funnel report` as a library call: spec → SQL → DuckDB → metrics → FunnelReport."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlglot import exp

from funnelcli import __version__
from funnelcli.compile import CompiledFunnel, ReportQuery, compile_funnel, unique_key_check
from funnelcli.compile.resolve import Resolver
from funnelcli.engine import AMOUNT, Engine, Reject, open_engine
from funnelcli.errors import DataError
from funnelcli.outputs.report import (
    DataQuality,
    FunnelInfo,
    FunnelReport,
    Period,
    StageInfo,
    UnmatchedLookup,
    UnmatchedValue,
)
from funnelcli.spec import Funnel

_T = TypeVar("_T")


def compile_for(funnel: Funnel, engine: Engine, query: ReportQuery | None = None) -> CompiledFunnel:
    """Compile against the sources' real headers, so unknown columns are caught with a hint.

    The YAML's `dimensions:` and `breakdown:` are checked too, with their own keys, even when
    this run does not break down by them.
    """
    headers = engine.schema()
    resolver = Resolver(funnel, headers)
    for key in ("dimensions", "breakdown"):
        for index, name in enumerate(getattr(funnel.spec, key)):
            resolver.attribute_source(name, f"{key}[{index}]")
    query = query or ReportQuery()
    # Optimistic: sources read from copies are compiled per row, then checked (stored checks).
    copied = frozenset(name for name in funnel.spec.funnel_sources if name in engine.copies)
    hoped = bool(copied) and copied == set(funnel.spec.funnel_sources)
    compiled = compile_funnel(funnel, headers, query, copied, stream=hoped)
    distinct = frozenset(
        name
        for name in compiled.per_row_candidates
        # A copy's check is a stored result, run once per copy. A CSV is not checked here: the
        # check would cost about what it saves (_trial checks it within the report instead).
        if name in engine.copies and _one_row_per_key(engine, funnel, name, headers)
    )
    # Every source is read per row from a copy: reading the rows twice is cheap (`stream`).
    stream = bool(distinct) and distinct == set(compiled.source_names)
    if distinct != set(compiled.per_row) or stream != hoped:
        compiled = compile_funnel(funnel, headers, query, distinct, stream=stream)
    if query.as_of is None and stream:
        # Every layer is read row by row: with the default anchor found by a first pass (a
        # scan of the copies' time columns) and given as --as-of, the report's layers are read
        # once and stream (at 10M rows 0.4 instead of 1.3 GiB). The same report.
        # The anchor depends on no option of the query: one first pass (and stored result)
        # serves every question over the same copies.
        plain = (
            compiled
            if query == ReportQuery()
            else compile_funnel(funnel, headers, ReportQuery(), distinct, stream=True)
        )
        found = engine.rows(plain.anchor())[0]["as_of"]
        if found is not None:
            anchored = replace(query, as_of=found)
            compiled = compile_funnel(funnel, headers, anchored, distinct, stream=True)
    return compiled


def _one_row_per_key(
    engine: Engine,
    funnel: Funnel,
    source_name: str,
    headers: dict[str, dict[str, str]],
    head: int | None = None,
) -> bool:
    """Whether a source (its first `head` rows) has one row per key (unique_key_check): a wide
    export usually has, and then its per-key layer needs no GROUP BY (at 10M rows about half
    of a report)."""
    check = unique_key_check(funnel, source_name, headers, head)
    rows = engine.rows(check, source=source_name)
    return bool(rows[0]["distinct"])


def run_query(
    engine: Engine,
    funnel: Funnel,
    query: ReportQuery,
    explain: Callable[[str], None] | None = None,
) -> tuple[CompiledFunnel, list[dict[str, Any]]]:
    """Compile against the real headers and run; a value DuckDB cannot read is located
    (file, row, column) before the error reaches the user."""
    compiled = compile_for(funnel, engine, query)
    return _standing(engine, funnel, query, compiled, _report, explain, exact=False)


def anchors(
    engine: Engine, funnel: Funnel, as_of: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """(as_of, first entry) of a report over all the data without running the report: the
    same layers, none of the stage aggregates (CompiledFunnel.anchors)."""
    query = ReportQuery(as_of=as_of)
    compiled = compile_for(funnel, engine, query)

    _, (row,) = _standing(engine, funnel, query, compiled, CompiledFunnel.anchors)
    return row["as_of"], row["first_entry"]


def _standing(
    engine: Engine,
    funnel: Funnel,
    query: ReportQuery,
    compiled: CompiledFunnel,
    statement: Callable[[CompiledFunnel], exp.Select],
    explain: Callable[[str], None] | None = None,
    *,
    exact: bool = True,
) -> tuple[CompiledFunnel, list[dict[str, Any]]]:
    """Run `statement` of the per-row trial (_trial) when there is one, and of `compiled`
    when there is none or a check voids the trial's result; the rows without the checks."""
    for attempt in (_trial(engine, funnel, query, compiled), compiled):
        if attempt is None:
            continue
        select = statement(attempt)
        if explain is not None:
            explain(select.sql(dialect="duckdb", pretty=True))
        rows = _located(engine, attempt, partial(engine.rows, select, exact=exact))
        if _stands(rows, attempt):
            return attempt, [_without(row, attempt.checks) for row in rows]
    raise AssertionError("unreachable: the grouped query has no checks")


def _trial(
    engine: Engine, funnel: Funnel, query: ReportQuery, compiled: CompiledFunnel
) -> CompiledFunnel | None:
    """The query with the sources not yet known to have one row per key (read from a CSV,
    not a checked copy) read per row on trust, checking it in the same query: a wide export
    usually has one row per lead, and then the per-id GROUP BY, most of a report's cost and
    memory, is skipped. None when there is no such source."""
    headers = engine.schema()
    untested = frozenset(
        name
        for name in set(compiled.per_row_candidates) - set(compiled.per_row)
        # An export with repeated ids usually repeats them early, and then the trial would be
        # run in vain, its cost on top of the GROUP BY's. A few hundredths of a second.
        if _one_row_per_key(engine, funnel, name, headers, head=_HEAD_ROWS)
    )
    if not untested:
        return None
    known = frozenset(compiled.per_row)
    return compile_funnel(funnel, headers, query, known, trusted=untested)


_HEAD_ROWS = 100_000  # a repeated key among a CSV's first rows: no per-row trial


def _report(compiled: CompiledFunnel) -> exp.Select:
    return compiled.query


def _stands(rows: list[dict[str, Any]], compiled: CompiledFunnel) -> bool:
    """Whether a result stands: every source read per row on trust has one row per key."""
    return bool(rows) and all(row[column] is True for row in rows for column in compiled.checks)


def _without(row: dict[str, Any], columns: Mapping[str, str]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in columns}


def _located(engine: Engine, compiled: CompiledFunnel, run: Callable[[], _T]) -> _T:
    try:
        return run()
    except DataError as error:
        raise (find_unreadable(engine, compiled) or error) from None


def build_report(
    funnel: Funnel,
    query: ReportQuery | None = None,
    *,
    min_n: int | None = None,
    data_dir: Path | None = None,
    explain: Callable[[str], None] | None = None,
    strict: bool = False,
    rejects_out: Path | None = None,
    cache: bool | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> FunnelReport:
    """Run the funnel over its sources and return the report (DESIGN.md §3 semantics).

    `cache` (default: the YAML's `cache:`) reads the sources through their Parquet copies in
    `cache_dir` (default: paths.default_cache_dir()). `progress` is called (from another
    thread) with the running query's done fraction.
    """
    folder = cache_folder(funnel, cache, cache_dir)
    with open_engine(funnel, data_dir, parquet_cache=folder, progress=progress) as engine:
        return report_on(
            engine,
            funnel,
            query,
            min_n=min_n,
            explain=explain,
            strict=strict,
            rejects_out=rejects_out,
        )


def report_on(
    engine: Engine,
    funnel: Funnel,
    query: ReportQuery | None = None,
    *,
    min_n: int | None = None,
    explain: Callable[[str], None] | None = None,
    strict: bool = False,
    rejects_out: Path | None = None,
) -> FunnelReport:
    """`build_report` on an open engine (several reports over the same sources share one)."""
    from functools import partial

    from funnelcli.metrics.funnel import split_groups, total_row
    from funnelcli.metrics.sales import sales_metrics

    query = query or ReportQuery()
    min_n = funnel.spec.min_n if min_n is None else min_n
    compiled, rows = run_query(engine, funnel, query, explain)
    unparseable = count_unparseable(engine, compiled)
    rows_rejected, by_reason = engine.reject_counts()
    if rejects_out is not None or (strict and by_reason):
        found = engine.rejects()
        if rejects_out is not None:
            write_rejects(found, rejects_out)
        if strict and found:
            raise reject_error(found, "--strict")
    unmatched = unmatched_lookups(funnel, engine)
    sales = partial(sales_metrics, funnel.spec)
    overall, breakdowns = split_groups(rows, compiled, funnel.spec.stages, min_n, sales)
    totals = total_row(rows, compiled)
    period = Period(
        since=_iso(query.since),
        until=_iso(query.until),
        as_of=_iso(totals.get("as_of")),
        first_entry=_iso(totals.get("first_entry")),
        last_entry=_iso(totals.get("last_entry")),
        immature=overall.immature_ids > 0,
    )
    return FunnelReport(
        funnel=funnel_info(funnel),
        period=period,
        overall=overall,
        breakdowns=breakdowns,
        data_quality=replace(
            _data_quality(funnel, compiled, totals, overall.immature_ids, unparseable, unmatched),
            rows_rejected=rows_rejected,
            rejects_by_reason=by_reason,
            duplicate_ids={
                s: int(totals.get(f"duplicate_ids_{i}") or 0)
                for i, s in enumerate(compiled.source_names)
                if f"duplicate_ids_{i}" in totals
            },
        ),
        min_n=min_n,
        version=__version__,
    )


def cache_folder(funnel: Funnel, cache: bool | None, cache_dir: Path | None) -> Path | None:
    """Where to keep the sources' Parquet copies, or None to read the files directly."""
    if not (funnel.spec.cache if cache is None else cache):
        return None
    from funnelcli.engine.store import default_cache_dir

    return cache_dir or default_cache_dir()


def funnel_info(funnel: Funnel) -> FunnelInfo:
    spec = funnel.spec
    return FunnelInfo(
        name=funnel.name,
        title=spec.title or funnel.name,
        file=funnel.file,
        grain=spec.grain.value,
        order=spec.order.value,
        window=str(spec.window) if spec.window else None,
        stages=tuple(
            StageInfo(
                name=s.name,
                label=s.title,
                source=spec.stage_source(s),
                has_value=s.value is not None,
            )
            for s in spec.stages
        ),
        filter=spec.filter,
        currency=spec.currency,
    )


def _data_quality(
    funnel: Funnel,
    compiled: CompiledFunnel,
    totals: dict[str, Any],
    immature_ids: int,
    unparseable: dict[str, int],
    unmatched: tuple[UnmatchedLookup, ...] = (),
) -> DataQuality:
    sources = compiled.source_names
    stages = compiled.stage_names
    notes = []
    if funnel.spec.window is None:
        notes.append("no window declared, so no cohort is flagged immature")
    for i, source in enumerate(sources):
        if not totals.get(f"rows_read_{i}"):
            notes.append(f"source {source} has no data rows")
    for column, count in unparseable.items():
        if count:
            notes.append(
                f"{count} unparseable {plural(count, 'amount')} in {column} left out of the "
                "value sums (funnel validate shows the first; rules: docs/money.md)"
            )
    notes += [describe_unmatched(lookup) for lookup in unmatched if lookup.values]
    return DataQuality(
        rows_read={s: int(totals.get(f"rows_read_{i}") or 0) for i, s in enumerate(sources)},
        rows_without_id={
            s: int(totals.get(f"rows_without_id_{i}") or 0) for i, s in enumerate(sources)
        },
        ids_without_entry_time=int(totals.get("ids_without_entry_time") or 0),
        ids_outside_period=int(totals.get("ids_outside_period") or 0),
        ids_filtered_out=int(totals.get("ids_filtered_out") or 0),
        backwards_ids=int(totals.get("backwards_ids") or 0),
        backwards_by_stage={
            stages[k - 1]: int(totals.get(f"s{k}_backwards") or 0)
            for k in range(2, len(stages) + 1)
        },
        immature_ids=immature_ids,
        notes=tuple(notes),
        unparseable_amounts=unparseable,
        unmatched_lookups=unmatched,
    )


def unmatched_lookups(funnel: Funnel, engine: Engine) -> tuple[UnmatchedLookup, ...]:
    """Per declared lookup, the funnel values of its `join:` column that match no key."""
    from funnelcli.compile.lookups import lookup_joins, unmatched_query

    found = []
    for name, join in lookup_joins(funnel, engine.schema()).items():
        rows = engine.rows(unmatched_query(funnel, join), exact=False)
        values = tuple(
            UnmatchedValue(value=str(r["value"]), rows=int(r["rows"]), ids=int(r["ids"]))
            for r in rows
        )
        on = funnel.spec.sources[name].join
        assert on is not None
        found.append(UnmatchedLookup(lookup=name, join=on, values=values))
    return tuple(found)


def describe_unmatched(lookup: UnmatchedLookup) -> str:
    """One line for the data-quality notes: which values matched nothing, rows and ids."""
    shown = ", ".join(f"{v.value!r} ({v.rows:,} rows, {v.ids:,} ids)" for v in lookup.values[:5])
    more = f" and {len(lookup.values) - 5} more" if len(lookup.values) > 5 else ""
    return (
        f"lookup {lookup.lookup}: {len(lookup.values)} {lookup.join} value(s) match no key, "
        f"their rows get (none) for its columns: {shown}{more}"
    )


def count_unparseable(engine: Engine, compiled: CompiledFunnel) -> dict[str, int]:
    """ "source.column" → how many non-empty amounts money.py cannot read, per value column."""
    return {
        f"{source}.{column}": engine.count_unparseable(source, column)
        for source, column, type_name in compiled.typed_columns
        if type_name == AMOUNT
    }


def plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def find_unreadable(engine: Engine, compiled: CompiledFunnel) -> DataError | None:
    """The first date or amount that cannot be read, as file, row, column and its text."""
    for source, column, type_name in compiled.typed_columns:
        found = engine.locate(source, column, engine.unreadable(source, column, type_name))
        if found is not None:
            row, raw = found
            kind = "a date/time" if type_name == "TIMESTAMP" else "a number"
            if type_name == AMOUNT:
                kind = "an amount (rules: docs/money.md)"
            return DataError(
                f"cannot read {raw!r} as {kind}",
                file=engine.files[source].label,
                row=row,
                column=column,
            )
    return None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (
            value.isoformat(sep=" ")
            if value.time() != datetime.min.time()
            else value.date().isoformat()
        )
    return str(value)


def write_rejects(rejects: list[Reject], path: Path) -> None:
    """The rejected values as CSV (source, file, line, column, value, reason), atomically."""
    import csv
    import io

    from funnelcli.engine.store import write_atomic

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["source", "file", "line", "column", "value", "reason"])
    for r in rejects:
        writer.writerow([r.source, r.file, r.line, r.column, r.value, r.reason])
    write_atomic(path, buffer.getvalue())


def reject_error(found: list[Reject], why: str) -> DataError:
    """The first rejected value as an error naming file, line and column."""
    first = found[0]
    return DataError(
        f"{first.reason}: {first.value!r} ({why}: {len(found):,} value(s) rejected; "
        "list them with funnel report --rejects FILE)",
        file=first.file,
        line=first.line,
        column=first.column,
    )
