"""`funnel report` as a library call: spec → SQL → DuckDB → metrics → FunnelReport."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from funnelcli import __version__
from funnelcli.commands.options import Breakdowns, RunOptions, check_outputs
from funnelcli.commands.query import (
    compile_for,
    count_unparseable,
    located,
    require_entries_by,
    run_report_query,
)
from funnelcli.commands.set_aside import enforce
from funnelcli.compile import ReportQuery
from funnelcli.compile.histogram import IDS, MINUTE, histogram_query
from funnelcli.compile.rows import QueryResult
from funnelcli.engine import Engine, Reject, open_engine, scripts
from funnelcli.errors import DataError, UsageError
from funnelcli.metrics.funnel import split_groups
from funnelcli.metrics.histogram import histogram as time_histogram
from funnelcli.metrics.quality import data_quality
from funnelcli.metrics.sales import sales_metrics
from funnelcli.outputs.base import iso
from funnelcli.outputs.report import (
    FunnelInfo,
    FunnelReport,
    Period,
    StageInfo,
    UnmatchedLookup,
    UnmatchedValue,
)
from funnelcli.spec import Funnel, Order, unordered
from funnelcli.spec.unordered import row_stages
from funnelcli.sql import dialects


@dataclass(frozen=True)
class ReportRequest:
    """What `funnel report` is asked (dates are naive UTC)."""

    since: datetime | None = None  # entry cohort [since, until)
    until: datetime | None = None
    as_of: datetime | None = None  # maturity anchor; default: the latest time in the data
    breakdowns: Breakdowns | None = None  # None: the YAML's breakdown:
    min_n: int | None = None  # None: the YAML's min_n:
    strict: bool = False  # any rejected value is an error
    rejects: Path | None = None  # write the rejected values here (CSV)
    histogram: str | None = None  # a stage: its time-to-convert histogram (FunnelReport)
    top: int | None = None  # per breakdown attribute, its N biggest values; the rest "(other)"


def build_report(
    funnel: Funnel, request: ReportRequest | None = None, options: RunOptions | None = None
) -> FunnelReport:
    """Run the funnel over its sources and return the report (DESIGN.md §3 semantics)."""
    options = options or RunOptions()
    with open_engine(
        funnel,
        options.data_dir,
        parquet_cache=options.cache_folder(funnel),
        progress=options.progress,
        spark_master=options.spark_master,
    ) as engine:
        return report_on(engine, funnel, request, options)


def report_sql(
    funnel: Funnel,
    request: ReportRequest | None = None,
    options: RunOptions | None = None,
    dialect: str = "duckdb",
) -> str:
    """The SQL of the report query in its grouped-by-key form (what holds for any export; a
    report may first read a one-row-per-key source per row). In DuckDB's dialect, the query
    over the views `source_<name>` (and the `--histogram` query after it); in another
    (sql/dialects.CHECKED), a runnable script: the session's time zone, each source as a typed
    view, then the query (engine/scripts.py)."""
    request = request or ReportRequest()
    if dialects.check_dialect(dialect) != "duckdb":
        return report_script(funnel, request, options, dialect).text()
    options = options or RunOptions()
    stage = histogram_stage(funnel, request.histogram)
    with open_engine(funnel, options.data_dir) as engine:
        compiled = compile_for(engine, funnel, _query(funnel, request))
    statements = [compiled.sql(dialect="duckdb")]
    if stage is not None:
        statements.append(histogram_query(compiled, stage).sql(dialect="duckdb", pretty=True))
    return ";\n\n".join(statements)


def report_script(
    funnel: Funnel,
    request: ReportRequest | None = None,
    options: RunOptions | None = None,
    dialect: str = "spark",
) -> scripts.Script:
    """`report_sql` for another engine as its statements, in order (the query last)."""
    options = options or RunOptions()
    request = request or ReportRequest()
    name = dialects.check_dialect(dialect)
    if request.histogram is not None:
        raise UsageError(f"--histogram: not in a --dialect {name} script yet (DuckDB only)")
    with open_engine(funnel, options.data_dir, scripted=True) as engine:
        engine.read_tolerantly()  # the script's views read as the tolerant ones do (its types)
        compiled = compile_for(engine, funnel, _query(funnel, request))
        query = dialects.render(compiled.query, name)
        recursive = bool(compiled.query.args["with_"].args.get("recursive"))
        settings = scripts.session_settings(name, recursive)
        statements = [*settings, *scripts.source_statements(engine, name)]
    return scripts.Script(name, (*statements, query))


def histogram_stage(funnel: Funnel, name: str | None) -> int | None:
    """The 1-based index of the `--histogram` stage (None when none is asked for); the first
    stage has no time from a previous one."""
    if name is None:
        return None
    names = [s.name for s in row_stages(funnel.spec)]  # order: any: stages_2, stages_3, …
    if name not in names:
        raise UsageError(f"--histogram: no stage {name!r}; stages: {', '.join(names)}")
    if name == names[0]:
        raise UsageError(f"--histogram: {name!r} is the first stage; name a later one")
    return names.index(name) + 1


def _query(funnel: Funnel, request: ReportRequest) -> ReportQuery:
    """The report query a request asks for, with the YAML's `breakdown:` by default."""
    breakdowns = request.breakdowns
    if breakdowns is None:
        breakdowns = tuple((name,) for name in funnel.spec.breakdown)
    return ReportQuery(
        since=request.since,
        until=request.until,
        as_of=request.as_of,
        breakdowns=breakdowns,
        top=request.top,
    )


def report_on(
    engine: Engine,
    funnel: Funnel,
    request: ReportRequest | None = None,
    options: RunOptions | None = None,
) -> FunnelReport:
    """`build_report` on an open engine (several reports over the same sources share one)."""
    request = request or ReportRequest()
    spec = funnel.spec
    min_n = spec.min_n if request.min_n is None else request.min_n
    query = _query(funnel, request)
    explain = options.explain if options is not None else None
    stage = histogram_stage(funnel, request.histogram)
    compiled, rows = run_report_query(engine, funnel, query, explain)
    result = compiled.columns.parse(rows)
    if result.total.entered == 0:
        require_entries_by(engine, funnel, request.as_of)
    histogram = None
    if stage is not None:  # over the query as it ran (its rewrites' checks held)
        minutes = located(engine, compiled, partial(engine.rows, histogram_query(compiled, stage)))
        pairs = ((int(r[MINUTE]), int(r[IDS])) for r in minutes)
        histogram = time_histogram(row_stages(spec)[stage - 1].name, pairs)
    unparseable = count_unparseable(engine, compiled)
    rows_rejected, by_reason = engine.reject_counts()
    if request.rejects is not None or (request.strict and by_reason):
        found = engine.rejects()
        if request.rejects is not None:
            check_outputs(funnel, options.data_dir if options else None, rejects=request.rejects)
            write_rejects(found, request.rejects)
        if request.strict and found:
            raise reject_error(found, "--strict")
    enforce(engine, funnel, options)
    # order: any: rows are stages done, and no named stage is won (spec/unordered.py)
    sales = partial(sales_metrics, spec) if spec.order is not Order.any else None
    overall, groups = split_groups(result, compiled.breakdowns, row_stages(spec), min_n, sales)
    total = result.total
    quality = data_quality(
        result.quality,
        total,
        compiled.stage_names,
        has_window=spec.window is not None,
        unparseable=unparseable,
        unmatched=unmatched_lookups(funnel, engine),
        rows_rejected=rows_rejected,
        rejects_by_reason=by_reason,
        exclusions=[
            (x.label, x.ends(list(compiled.stage_names)), x.scope.value) for x in spec.exclude
        ],
    )
    return FunnelReport(
        funnel=funnel_info(funnel),
        period=result_period(query.since, query.until, result),
        overall=overall,
        breakdowns=groups,
        data_quality=quality,
        min_n=min_n,
        version=__version__,
        histogram=histogram,
    )


def result_period(since: datetime | None, until: datetime | None, result: QueryResult) -> Period:
    """The entry period asked for and what the query found in it (as_of, first and last entry)."""
    total = result.total
    return Period(
        since=iso(since),
        until=iso(until),
        as_of=iso(result.quality.as_of),
        first_entry=iso(total.first_entry),
        last_entry=iso(total.last_entry),
        immature=total.immature_ids > 0,
    )


def funnel_info(funnel: Funnel, *, as_rows: bool = False) -> FunnelInfo:
    """The parts of the definition a reader needs to interpret the numbers; `as_rows`: the
    stages as the rows are (order: any: stages done), for a matrix whose columns they are."""
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
            for s in (row_stages(spec) if as_rows else spec.stages)
        ),
        filter=spec.filter,
        currency=spec.currency,
        attribution=spec.attribution if spec.attribution != "entry" else None,
        attempts=spec.attempts.value if spec.attempts.value != "first" else None,
        evidence=spec.evidence.value if spec.evidence.value != "shared" else None,
        rows=unordered.ROWS if spec.order is Order.any else None,
    )


def unmatched_lookups(funnel: Funnel, engine: Engine) -> tuple[UnmatchedLookup, ...]:
    """Per declared lookup, the funnel values of its `join:` column that match no key."""
    from funnelcli.compile.lookups import lookup_joins, unmatched_query

    found = []
    for name, join in lookup_joins(funnel, engine.schema()).items():
        rows = engine.rows(unmatched_query(funnel, join))
        values = tuple(
            UnmatchedValue(value=str(r["value"]), rows=int(r["rows"]), ids=int(r["ids"]))
            for r in rows
        )
        on = funnel.spec.sources[name].join
        assert on is not None
        found.append(UnmatchedLookup(lookup=name, join=on, values=values))
    return tuple(found)


def write_rejects(rejects: list[Reject], path: Path) -> None:
    """The rejected values as CSV (source, file, line, column, value, reason), atomically;
    cells that a spreadsheet would run as formulas are neutralised (outputs.base.csv_table)."""
    from funnelcli.engine.store import write_atomic
    from funnelcli.outputs.base import csv_table

    columns = ("source", "file", "line", "column", "value", "reason")
    rows = ((r.source, r.file, r.line, r.column, r.value, r.reason) for r in rejects)
    write_atomic(path, csv_table(columns, rows))


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
